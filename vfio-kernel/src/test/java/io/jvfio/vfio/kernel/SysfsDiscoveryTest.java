package io.jvfio.vfio.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.vfio.kernel.DiscoveryException.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SysfsDiscoveryTest {
    @TempDir
    Path root;

    FakeSysfs sysfs;
    SysfsDiscovery discovery;

    @BeforeEach
    void setUp() {
        sysfs = new FakeSysfs(root);
        discovery = new SysfsDiscovery(root);
    }

    @Test
    void hostNameFindsPlatformDeviceWithGroupCdevAndCompatible() throws Exception {
        Path dir = sysfs.xgmac();

        SysfsDevice device = discovery.byHost("fff51000.ethernet");

        assertThat(device.name()).isEqualTo("fff51000.ethernet");
        assertThat(device.path()).isEqualTo(root.resolve("bus/platform/devices/fff51000.ethernet"));
        assertThat(device.realPath()).isEqualTo(dir.toRealPath());
        assertThat(device.iommuGroup()).isEqualTo(7);
        assertThat(device.vfioCdev()).contains("vfio0");
        assertThat(device.compatible()).containsExactly("calxeda,hb-xgmac", "snps,dwmac");
        assertThat(device.deviceTreeIdentity())
                .hasValueSatisfying(
                        id -> assertThat(id.compatible()).containsExactly("calxeda,hb-xgmac", "snps,dwmac"));
    }

    @Test
    void ofNodePropertiesThatMeanTheSameInTheGuestAreCopiedAndHostReferencesAreNot() throws Exception {
        Path dir = sysfs.xgmac();
        Path ofNode = dir.resolve("of_node");
        Files.write(ofNode.resolve("phy-mode"), "rgmii\0".getBytes(StandardCharsets.US_ASCII));
        Files.write(ofNode.resolve("local-mac-address"), new byte[] {0x02, 0, 0, 0, 0, 1});
        Files.write(ofNode.resolve("reg"), new byte[16]);
        Files.write(ofNode.resolve("interrupts"), new byte[12]);
        Files.write(ofNode.resolve("clocks"), new byte[] {0, 0, 0, 5});
        Files.write(ofNode.resolve("pinctrl-0"), new byte[] {0, 0, 0, 6});
        Files.write(ofNode.resolve("phandle"), new byte[] {0, 0, 0, 7});
        Files.write(ofNode.resolve("name"), "ethernet\0".getBytes(StandardCharsets.US_ASCII));
        Files.createDirectories(ofNode.resolve("mdio"));

        SysfsDevice device = discovery.byHost("fff51000.ethernet");

        assertThat(device.ofNodeProperties()).containsOnlyKeys("phy-mode", "local-mac-address");
        assertThat(device.ofNodeProperties().get("local-mac-address")).containsExactly(0x02, 0, 0, 0, 0, 1);
        assertThat(device.deviceTreeIdentity())
                .hasValueSatisfying(
                        id -> assertThat(id.properties()).containsOnlyKeys("phy-mode", "local-mac-address"));
    }

    @Test
    void sysfsdevPathFindsTheSameDeviceAsTheHostName() throws Exception {
        sysfs.xgmac();

        SysfsDevice byPath = discovery.bySysfsPath(root.resolve("bus/platform/devices/fff51000.ethernet"));
        SysfsDevice byRealPath = discovery.bySysfsPath(root.resolve("devices/platform/fff51000.ethernet"));

        assertThat(byPath.name()).isEqualTo("fff51000.ethernet");
        assertThat(byRealPath.realPath())
                .isEqualTo(byPath.realPath())
                .isEqualTo(discovery.byHost("fff51000.ethernet").realPath());
    }

    @Test
    void sysfsdevThatDoesNotEndInADeviceDirectoryIsRefused() throws Exception {
        // bus/pci/devices/<child>/.. is the bridge above the child (the bus entry is a link), yet read
        // without following links it ends in "devices": a name no device has, with the bridge's group.
        Path bridge = sysfs.device("pci", "0000:00:01.0");
        sysfs.iommuGroup(bridge, "3");
        Path child = Files.createDirectories(bridge.resolve("0000:01:00.0"));
        Path busDevices = root.resolve("bus/pci/devices");
        Files.createSymbolicLink(busDevices.resolve("0000:01:00.0"), busDevices.relativize(child));

        for (Path sysfsdev : List.of(busDevices.resolve("0000:01:00.0/.."), bridge.resolve("."), root.getRoot())) {
            assertThatThrownBy(() -> discovery.bySysfsPath(sysfsdev))
                    .as("sysfsdev %s", sysfsdev)
                    .isInstanceOfSatisfying(
                            DiscoveryException.class,
                            e -> assertThat(e.problem()).isEqualTo(Problem.INVALID_NAME))
                    .hasMessageContaining("sysfsdev " + sysfsdev + " does not end in a device's name");
        }
    }

    @Test
    void pciDeviceIsFoundOnThePciBusWithoutOfNode() throws Exception {
        Path dev = sysfs.device("pci", "0000:00:01.0");
        sysfs.iommuGroup(dev, "1");

        SysfsDevice device = discovery.byHost("pci", "0000:00:01.0");

        assertThat(device.iommuGroup()).isEqualTo(1);
        assertThat(device.vfioCdev()).isEmpty();
        assertThat(device.compatible()).isEmpty();
        assertThat(device.deviceTreeIdentity()).isEmpty();
    }

    @Test
    void hostNameWithSlashIsRejectedBeforeLookingAnywhere() {
        assertThatThrownBy(() -> discovery.byHost("../../etc"))
                .isInstanceOfSatisfying(
                        DiscoveryException.class, e -> assertThat(e.problem()).isEqualTo(Problem.INVALID_NAME))
                .hasMessage(
                        "vfio ../../etc: host name '../../etc' is not a device name (it must be non-empty and contain no '/')");
    }

    @Test
    void busNameThatLeavesTheBusDirectoryIsRejectedBeforeLookingAnywhere() throws Exception {
        // <sysfs>/bus/../devices/platform is the directory FakeSysfs keeps platform devices in.
        sysfs.device("platform", "fff51000.ethernet");

        assertThatThrownBy(() -> discovery.byHost("..", "platform"))
                .isInstanceOfSatisfying(
                        DiscoveryException.class, e -> assertThat(e.problem()).isEqualTo(Problem.INVALID_NAME))
                .hasMessage(
                        "vfio platform: bus '..' is not a bus name (it must be non-empty and contain no '/', as platform or pci)");
    }

    @Test
    void missingDeviceIsReportedWithThePathLookedAt() {
        Path expected = root.resolve("bus/platform/devices/fff51000.ethernet");

        assertThatThrownBy(() -> discovery.byHost("fff51000.ethernet"))
                .isInstanceOfSatisfying(DiscoveryException.class, e -> {
                    assertThat(e.problem()).isEqualTo(Problem.NO_DEVICE);
                    assertThat(e.path()).isEqualTo(expected);
                })
                .hasMessage("vfio fff51000.ethernet: no such host device: " + expected + " does not exist");
    }

    @Test
    void missingSysfsdevIsReportedWithItsPath() {
        Path missing = root.resolve("devices/platform/nothing.here");

        assertThatThrownBy(() -> discovery.bySysfsPath(missing))
                .isInstanceOfSatisfying(
                        DiscoveryException.class, e -> assertThat(e.problem()).isEqualTo(Problem.NO_DEVICE))
                .hasMessageContaining(missing.toString());
    }

    @Test
    void deviceWithoutIommuGroupIsReported() throws Exception {
        sysfs.device("platform", "fff51000.ethernet");
        Path link = root.resolve("bus/platform/devices/fff51000.ethernet/iommu_group");

        assertThatThrownBy(() -> discovery.byHost("fff51000.ethernet"))
                .isInstanceOfSatisfying(DiscoveryException.class, e -> {
                    assertThat(e.problem()).isEqualTo(Problem.NO_IOMMU_GROUP);
                    assertThat(e.path()).isEqualTo(link);
                })
                .hasMessageContaining("no iommu_group for device: " + link + " does not exist");
    }

    @Test
    void iommuGroupWhoseNameIsNotANumberIsReported() throws Exception {
        Path dev = sysfs.device("platform", "fff51000.ethernet");
        sysfs.iommuGroup(dev, "seven");

        assertThatThrownBy(() -> discovery.byHost("fff51000.ethernet"))
                .isInstanceOfSatisfying(
                        DiscoveryException.class, e -> assertThat(e.problem()).isEqualTo(Problem.BAD_IOMMU_GROUP))
                .hasMessageContaining("cannot parse the iommu group number of")
                .hasMessageContaining("iommu_group")
                .hasMessageContaining("'seven' is not a number");
    }

    @Test
    void iommuGroupNameThatTheKernelWouldNotWriteIsRefused() throws Exception {
        // The kernel names groups with %d: "+7", "07" and non-ASCII digits are not groups, and reading them
        // as 7 would open /dev/vfio/7, someone else's group.
        for (String name : new String[] {"+7", "07", "\u0667", "2147483648"}) {
            Path dev = sysfs.device("platform", "dev" + name.hashCode());
            sysfs.iommuGroup(dev, name);

            assertThatThrownBy(() -> discovery.byHost(dev.getFileName().toString()))
                    .as("group name '%s'", name)
                    .isInstanceOfSatisfying(
                            DiscoveryException.class,
                            e -> assertThat(e.problem()).isEqualTo(Problem.BAD_IOMMU_GROUP))
                    .hasMessageContaining("'" + name + "' is not a number");
        }
        Path zero = sysfs.device("platform", "zero");
        sysfs.iommuGroup(zero, "0");
        assertThat(discovery.byHost("zero").iommuGroup()).isZero();
    }

    @Test
    void danglingIommuGroupLinkStillYieldsItsNumber() throws Exception {
        Path dev = sysfs.device("platform", "fff51000.ethernet");
        Files.createSymbolicLink(dev.resolve("iommu_group"), Path.of("../../../kernel/iommu_groups/12"));

        assertThat(discovery.byHost("fff51000.ethernet").iommuGroup()).isEqualTo(12);
    }

    @Test
    void compatibleStringsAreSplitAtNuls() {
        assertThat(SysfsDiscovery.parseCompatible("a,b\0c\0".getBytes())).isEqualTo(List.of("a,b", "c"));
        assertThat(SysfsDiscovery.parseCompatible("only".getBytes())).isEqualTo(List.of("only"));
        assertThat(SysfsDiscovery.parseCompatible(new byte[0])).isEmpty();
    }

    @Test
    void deviceTreeIdentityIsEmptyWithoutCompatible() throws IOException {
        assertThat(new SysfsDevice("x", root, root, 1, Optional.empty(), List.of(), Map.of()).deviceTreeIdentity())
                .isEmpty();
    }
}
