package io.jvfio.vfio.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.IommufdMode;
import io.jvfio.vfio.VfioException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opening without a usable kernel VFIO: a built sysfs and a built /dev whose nodes are missing or are
 * regular files (every VFIO ioctl on them fails with ENOTTY). Each failure is one clear message, and
 * nothing is left open.
 */
class KernelVfioTest {
    private static final String NAME = "fff51000.ethernet";

    @TempDir
    Path sysfsRoot;

    @TempDir
    Path devRoot;

    @BeforeEach
    void setUp() throws Exception {
        new FakeSysfs(sysfsRoot).xgmac();
    }

    private KernelVfio vfio(IommufdMode mode) {
        return KernelVfio.create(new KernelVfio.Options(sysfsRoot, devRoot, mode));
    }

    private void devNode(String path) throws Exception {
        Path node = devRoot.resolve(path);
        Files.createDirectories(node.getParent());
        Files.writeString(node, "");
    }

    @Test
    void openingOnThisMachineFailsWithOneClearMessage() {
        assumeFalse(
                Files.exists(Path.of("/dev/vfio/vfio")) || Files.exists(Path.of("/dev/iommu")),
                "this machine has kernel VFIO");
        try (KernelVfio vfio = KernelVfio.create(KernelVfio.Options.defaults().withSysfsRoot(sysfsRoot))) {
            assertThatThrownBy(() -> vfio.openHost(NAME))
                    .isInstanceOf(VfioUnavailableException.class)
                    .hasMessageStartingWith(
                            "vfio " + NAME + ": kernel VFIO is not available: no /dev/vfio/vfio and no /dev/iommu")
                    .hasNoCause();
        }
    }

    @Test
    void openingWithoutVfioNodesFailsWithOneClearMessageInEveryMode() {
        for (IommufdMode mode : IommufdMode.values()) {
            try (KernelVfio vfio = vfio(mode)) {
                assertThatThrownBy(() -> vfio.openHost(NAME))
                        .as("iommufd=%s", mode)
                        .isInstanceOf(VfioUnavailableException.class)
                        .hasMessageContaining("kernel VFIO is not available: no " + devRoot.resolve("vfio/vfio")
                                + " and no " + devRoot.resolve("iommu"))
                        .hasNoCause();
            }
        }
    }

    @Test
    void discoveryFailsBeforeAnyDeviceNodeIsLookedAt() {
        try (KernelVfio vfio = vfio(IommufdMode.AUTO)) {
            assertThatThrownBy(() -> vfio.openHost("no.such.device"))
                    .isInstanceOf(DiscoveryException.class)
                    .hasMessageContaining("no such host device");
        }
    }

    @Test
    void missingGroupNodeSaysTheDeviceIsNotBoundToVfio() throws Exception {
        devNode("vfio/vfio");
        try (KernelVfio vfio = vfio(IommufdMode.OFF)) {
            assertThatThrownBy(() -> vfio.openHost(NAME))
                    .hasMessage("vfio " + NAME + ": group 7 is not available: no " + devRoot.resolve("vfio/7") + " (is "
                            + NAME + " bound to a VFIO driver? see 'jvfio bind " + NAME + "')");
        }
    }

    @Test
    void eachOpenTakesItsDevicesOwnIommufdModeInOneVmsState() throws Exception {
        // iommufd= is a device property while groups and containers are the VM's: one KernelVfio opens
        // every device of a VM, each through the interface its own mode selects.
        devNode("vfio/vfio");
        try (KernelVfio vfio = vfio(IommufdMode.AUTO)) {
            assertThatThrownBy(() -> vfio.openHost(NAME, IommufdMode.ON))
                    .isInstanceOf(VfioUnavailableException.class)
                    .hasMessage("vfio " + NAME + ": iommufd=on but there is no " + devRoot.resolve("iommu"));
            assertThatThrownBy(() -> vfio.openHost(NAME, IommufdMode.OFF))
                    .hasMessageStartingWith("vfio " + NAME + ": group 7 is not available");
            assertThat(vfio.attachedDevices()).isEmpty();
        }
    }

    @Test
    void noIommuGroupIsRefusedAsSuchNotTakenForAnUnboundDevice() throws Exception {
        // The kernel's unsafe no-IOMMU mode names the group node noiommu-N: the device is bound to VFIO,
        // but nothing confines its DMA, and jvfio assigns only behind an IOMMU.
        devNode("vfio/vfio");
        devNode("vfio/noiommu-7");
        try (KernelVfio vfio = vfio(IommufdMode.AUTO)) {
            assertThatThrownBy(() -> vfio.openHost(NAME))
                    .isInstanceOf(VfioUnavailableException.class)
                    .hasMessage("vfio " + NAME + ": group 7 is a no-IOMMU group (" + devRoot.resolve("vfio/noiommu-7")
                            + "): the device's DMA would reach all of host memory, and jvfio assigns a device only"
                            + " behind an IOMMU (type1 or iommufd)");
            assertThat(vfio.openGroups()).isZero();
        }
    }

    @Test
    void groupNodeThatIsNotAGroupFailsWithTheIoctlAndErrnoAndLeaksNoFd() throws Exception {
        devNode("vfio/vfio");
        devNode("vfio/7");
        int fdsBefore = Resources.openFds();
        try (KernelVfio vfio = vfio(IommufdMode.OFF)) {
            assertThatThrownBy(() -> vfio.openHost(NAME))
                    .isInstanceOf(VfioException.class)
                    .hasMessage("vfio " + NAME + ": " + devRoot.resolve("vfio/7") + " is not a VFIO group: "
                            + "VFIO_GROUP_GET_STATUS failed: Inappropriate ioctl for device (ENOTTY)");
            assertThat(vfio.openGroups()).isZero();
            assertThat(vfio.openContainers()).isZero();
        }
        assertThat(Resources.openFds()).isEqualTo(fdsBefore);
    }

    @Test
    void iommufdOnWithoutDevIommuIsUnavailable() throws Exception {
        devNode("vfio/vfio");
        try (KernelVfio vfio = vfio(IommufdMode.ON)) {
            assertThatThrownBy(() -> vfio.openHost(NAME))
                    .isInstanceOf(VfioUnavailableException.class)
                    .hasMessage("vfio " + NAME + ": iommufd=on but there is no " + devRoot.resolve("iommu"));
        }
    }

    @Test
    void iommufdOnWithoutTheDeviceCdevNodeNamesIt() throws Exception {
        devNode("iommu");
        try (KernelVfio vfio = vfio(IommufdMode.ON)) {
            assertThatThrownBy(() -> vfio.openHost(NAME))
                    .hasMessageContaining(
                            "iommufd=on but the device has no VFIO cdev: no " + devRoot.resolve("vfio/devices/vfio0"));
        }
    }

    @Test
    void iommufdOffWithOnlyDevIommuSaysSo() throws Exception {
        devNode("iommu");
        try (KernelVfio vfio = vfio(IommufdMode.OFF)) {
            assertThatThrownBy(() -> vfio.openHost(NAME))
                    .isInstanceOf(VfioUnavailableException.class)
                    .hasMessageContaining("iommufd=off but there is no " + devRoot.resolve("vfio/vfio"));
        }
    }

    @Test
    void autoPicksIommufdWhenTheCdevExistsAndFailsOnTheIoctlWithoutLeaking() throws Exception {
        devNode("vfio/vfio");
        devNode("iommu");
        devNode("vfio/devices/vfio0");
        int fdsBefore = Resources.openFds();
        try (KernelVfio vfio = vfio(IommufdMode.AUTO)) {
            assertThatThrownBy(() -> vfio.openHost(NAME))
                    .hasMessage(
                            "vfio " + NAME + ": failed to allocate an I/O address space on " + devRoot.resolve("iommu")
                                    + ": IOMMU_IOAS_ALLOC failed: Inappropriate ioctl for device (ENOTTY)");
        }
        assertThat(Resources.openFds()).isEqualTo(fdsBefore);
    }

    @Test
    void autoOpensADeviceOfAGroupThisVmHoldsThroughThatGroupEvenWhereItHasACdev() {
        // The kernel refuses the cdev of a device whose group is open (EBUSY); the held group gives its fd.
        assertThat(KernelVfio.autoBackend(true, true, true)).contains(KernelVfio.Backend.LEGACY_CONTAINER);
        assertThat(KernelVfio.autoBackend(true, false, true)).contains(KernelVfio.Backend.LEGACY_CONTAINER);
    }

    @Test
    void autoPrefersTheCdevForAGroupThisVmDoesNotHoldAndFallsBackToTheContainer() {
        assertThat(KernelVfio.autoBackend(false, true, true)).contains(KernelVfio.Backend.IOMMUFD);
        assertThat(KernelVfio.autoBackend(false, true, false)).contains(KernelVfio.Backend.IOMMUFD);
        assertThat(KernelVfio.autoBackend(false, false, true)).contains(KernelVfio.Backend.LEGACY_CONTAINER);
        assertThat(KernelVfio.autoBackend(false, false, false)).isEmpty();
    }

    @Test
    void autoWithOnlyDevIommuAndNoCdevExplainsBoth() throws Exception {
        devNode("iommu");
        Files.delete(sysfsRoot.resolve("devices/platform/" + NAME + "/vfio-dev/vfio0"));
        try (KernelVfio vfio = vfio(IommufdMode.AUTO)) {
            assertThatThrownBy(() -> vfio.openHost(NAME))
                    .hasMessageContaining("no " + devRoot.resolve("vfio/vfio")
                            + " (legacy VFIO container) and the device has no VFIO cdev");
        }
    }

    @Test
    void closedStateRefusesToOpen() {
        KernelVfio vfio = vfio(IommufdMode.AUTO);
        vfio.close();
        assertThatThrownBy(() -> vfio.openHost(NAME)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void iommufdPropertyParsesOnOffAuto() {
        assertThat(IommufdMode.parse("on")).isEqualTo(IommufdMode.ON);
        assertThat(IommufdMode.parse("OFF")).isEqualTo(IommufdMode.OFF);
        assertThat(IommufdMode.parse(" auto ")).isEqualTo(IommufdMode.AUTO);
        assertThatThrownBy(() -> IommufdMode.parse("yes")).hasMessage("iommufd must be on, off or auto, not 'yes'");
    }
}
