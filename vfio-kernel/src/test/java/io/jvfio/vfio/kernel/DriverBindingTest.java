package io.jvfio.vfio.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.vfio.kernel.DiscoveryException.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Binding on a built tree: the attributes are regular files, so the test reads what was written. */
class DriverBindingTest {
    @TempDir
    Path root;

    FakeSysfs sysfs;
    DriverBinding binding;

    @BeforeEach
    void setUp() {
        sysfs = new FakeSysfs(root);
        binding = new DriverBinding(root);
    }

    @Test
    void bindOverridesUnbindsFromTheCurrentDriverAndReprobes() throws Exception {
        Path dev = sysfs.xgmac();

        DriverBinding.Result result = binding.bind("fff51000.ethernet");

        assertThat(Files.readString(dev.resolve("driver_override"))).isEqualTo("vfio-platform");
        assertThat(Files.readString(root.resolve("bus/platform/drivers/calxedaxgmac/unbind")))
                .isEqualTo("fff51000.ethernet");
        assertThat(Files.readString(root.resolve("bus/platform/drivers_probe"))).isEqualTo("fff51000.ethernet");
        assertThat(result.previousDriver()).contains("calxedaxgmac");
    }

    @Test
    void bindOfAnUnboundDeviceOnlyOverridesAndProbes() throws Exception {
        Path dev = sysfs.device("platform", "fff51000.ethernet");

        DriverBinding.Result result = binding.bind("fff51000.ethernet");

        assertThat(result.previousDriver()).isEmpty();
        assertThat(Files.readString(dev.resolve("driver_override"))).isEqualTo("vfio-platform");
        assertThat(Files.readString(root.resolve("bus/platform/drivers_probe"))).isEqualTo("fff51000.ethernet");
    }

    @Test
    void bindOfAPciDeviceUsesVfioPci() throws Exception {
        Path dev = sysfs.device("pci", "0000:00:01.0");
        sysfs.driver(dev, "pci", "edu");

        binding.bind("pci", "0000:00:01.0");

        assertThat(Files.readString(dev.resolve("driver_override"))).isEqualTo("vfio-pci");
        assertThat(Files.readString(root.resolve("bus/pci/drivers/edu/unbind"))).isEqualTo("0000:00:01.0");
    }

    @Test
    void bindOfADeviceAlreadyOnVfioChangesNothingButTheOverride() throws Exception {
        Path dev = sysfs.device("platform", "fff51000.ethernet");
        sysfs.driver(dev, "platform", "vfio-platform");

        DriverBinding.Result result = binding.bind("fff51000.ethernet");

        assertThat(result.previousDriver()).contains("vfio-platform");
        assertThat(result.driverNow()).contains("vfio-platform");
        assertThat(Files.readString(root.resolve("bus/platform/drivers/vfio-platform/unbind")))
                .isEmpty();
        assertThat(Files.readString(root.resolve("bus/platform/drivers_probe"))).isEmpty();
    }

    @Test
    void unbindClearsTheOverrideUnbindsAndReprobes() throws Exception {
        Path dev = sysfs.device("platform", "fff51000.ethernet");
        sysfs.driver(dev, "platform", "vfio-platform");
        Files.writeString(dev.resolve("driver_override"), "vfio-platform\n");

        DriverBinding.Result result = binding.unbind("fff51000.ethernet");

        assertThat(Files.readString(dev.resolve("driver_override"))).isEqualTo("\n");
        assertThat(Files.readString(root.resolve("bus/platform/drivers/vfio-platform/unbind")))
                .isEqualTo("fff51000.ethernet");
        assertThat(Files.readString(root.resolve("bus/platform/drivers_probe"))).isEqualTo("fff51000.ethernet");
        assertThat(result.previousDriver()).contains("vfio-platform");
    }

    @Test
    void bindOfAMissingDeviceNamesThePath() {
        assertThatThrownBy(() -> binding.bind("nothing.here"))
                .isInstanceOfSatisfying(
                        DiscoveryException.class, e -> assertThat(e.problem()).isEqualTo(Problem.NO_DEVICE))
                .hasMessageContaining(
                        root.resolve("bus/platform/devices/nothing.here").toString());
    }

    @Test
    void bindRefusesANameWithASlash() {
        assertThatThrownBy(() -> binding.bind("a/b"))
                .isInstanceOf(DiscoveryException.class)
                .hasMessageContaining("no '/'");
    }

    @Test
    void bindRefusesABusNameThatLeavesTheBusDirectoryAndWritesNothing() throws Exception {
        // <sysfs>/bus/../devices/platform is the directory FakeSysfs keeps platform devices in.
        Path outside = root.resolve("devices/platform");
        sysfs.device("platform", "fff51000.ethernet");
        Files.writeString(outside.resolve("driver_override"), "(null)\n");

        for (String bus : new String[] {"..", ".", "", "platform/../pci"}) {
            assertThatThrownBy(() -> binding.bind(bus, "platform"))
                    .as("bus '%s'", bus)
                    .isInstanceOfSatisfying(
                            DiscoveryException.class,
                            e -> assertThat(e.problem()).isEqualTo(Problem.INVALID_NAME))
                    .hasMessageContaining("bus '" + bus + "' is not a bus name");
        }
        assertThat(Files.readString(outside.resolve("driver_override"))).isEqualTo("(null)\n");
    }

    @Test
    void missingAttributeIsReportedWithItsPath() throws Exception {
        Path dev = sysfs.device("platform", "fff51000.ethernet");
        Files.delete(dev.resolve("driver_override"));

        assertThatThrownBy(() -> binding.bind("fff51000.ethernet"))
                .hasMessageStartingWith("vfio fff51000.ethernet: cannot write 'vfio-platform' to "
                        + root.resolve("bus/platform/devices/fff51000.ethernet/driver_override"));
    }

    @Test
    void vfioDriverIsNamedAfterTheBus() {
        assertThat(DriverBinding.vfioDriverFor("platform")).isEqualTo("vfio-platform");
        assertThat(DriverBinding.vfioDriverFor("pci")).isEqualTo("vfio-pci");
        assertThat(DriverBinding.vfioDriverFor("amba")).isEqualTo("vfio-amba");
    }
}
