package io.jvfio.vfio.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jvfio.vfio.VfioException;
import io.jvfio.vfio.kernel.DiscoveryException.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Binding on a built tree: the attributes are regular files, so the test reads what was written, except
 * where {@link FakeKernelBinding} plays the kernel's part of unbinding and probing.
 */
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
        FakeKernelBinding kernel = FakeKernelBinding.start(root, dev, "platform", Optional.of("vfio-platform"));

        DriverBinding.Result result = bindWithin("platform", "fff51000.ethernet");

        kernel.awaitServed();
        assertThat(kernel.writes).containsExactly("vfio-platform", "fff51000.ethernet", "fff51000.ethernet");
        assertThat(result)
                .isEqualTo(new DriverBinding.Result(Optional.of("calxedaxgmac"), Optional.of("vfio-platform")));
    }

    @Test
    void bindOfAnUnboundDeviceOnlyOverridesAndProbes() throws Exception {
        Path dev = sysfs.device("platform", "fff51000.ethernet");
        FakeKernelBinding kernel = FakeKernelBinding.start(root, dev, "platform", Optional.of("vfio-platform"));

        DriverBinding.Result result = bindWithin("platform", "fff51000.ethernet");

        kernel.awaitServed();
        assertThat(result).isEqualTo(new DriverBinding.Result(Optional.empty(), Optional.of("vfio-platform")));
        assertThat(kernel.writes).containsExactly("vfio-platform", "fff51000.ethernet");
    }

    @Test
    void bindOfAPciDeviceUsesVfioPci() throws Exception {
        Path dev = sysfs.device("pci", "0000:00:01.0");
        sysfs.driver(dev, "pci", "edu");
        FakeKernelBinding kernel = FakeKernelBinding.start(root, dev, "pci", Optional.of("vfio-pci"));

        DriverBinding.Result result = bindWithin("pci", "0000:00:01.0");

        kernel.awaitServed();
        assertThat(kernel.writes).containsExactly("vfio-pci", "0000:00:01.0", "0000:00:01.0");
        assertThat(result.driverNow()).contains("vfio-pci");
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
    void bindThatNoDriverTakesGivesTheDeviceBackToItsDriver() throws Exception {
        Path dev = sysfs.xgmac();
        FakeKernelBinding kernel = FakeKernelBinding.start(root, dev, "platform", Optional.empty());

        DriverBinding.Result result = bindWithin("platform", "fff51000.ethernet");

        kernel.awaitServed();
        // The override is undone before the device goes back: a bus matches a device that has one to that
        // driver alone.
        assertThat(kernel.writes).containsExactly("vfio-platform", "fff51000.ethernet", "fff51000.ethernet", "\n");
        assertThat(result.previousDriver()).contains("calxedaxgmac");
        assertThat(Files.readString(root.resolve("bus/platform/drivers/calxedaxgmac/bind")))
                .isEqualTo("fff51000.ethernet");
    }

    @Test
    void bindWhoseUnbindFailsClearsTheOverrideItSet() throws Exception {
        Path dev = sysfs.xgmac();
        Files.delete(root.resolve("bus/platform/drivers/calxedaxgmac/unbind"));

        assertThatThrownBy(() -> binding.bind("fff51000.ethernet"))
                .isInstanceOf(VfioException.class)
                .hasMessageContaining("cannot write 'fff51000.ethernet' to "
                        + root.resolve("bus/platform/devices/fff51000.ethernet/driver/unbind"));

        assertThat(Files.readString(dev.resolve("driver_override"))).isEqualTo("\n");
        assertThat(Files.readString(root.resolve("bus/platform/drivers/calxedaxgmac/bind")))
                .isEmpty();
    }

    @Test
    void bindPutsBackAnOverrideTheUserHadSet() throws Exception {
        Path dev = sysfs.xgmac();
        Files.writeString(dev.resolve("driver_override"), "calxedaxgmac\n");
        Files.delete(root.resolve("bus/platform/drivers/calxedaxgmac/unbind"));

        assertThatThrownBy(() -> binding.bind("fff51000.ethernet")).isInstanceOf(VfioException.class);

        assertThat(Files.readString(dev.resolve("driver_override"))).isEqualTo("calxedaxgmac");
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
                .hasMessageStartingWith("vfio fff51000.ethernet: cannot read "
                        + root.resolve("bus/platform/devices/fff51000.ethernet/driver_override"));
    }

    @Test
    void vfioDriverIsNamedAfterTheBus() {
        assertThat(DriverBinding.vfioDriverFor("platform")).isEqualTo("vfio-platform");
        assertThat(DriverBinding.vfioDriverFor("pci")).isEqualTo("vfio-pci");
        assertThat(DriverBinding.vfioDriverFor("amba")).isEqualTo("vfio-amba");
    }

    /** A bind that blocks on a FIFO nobody serves fails the test instead of hanging it. */
    private DriverBinding.Result bindWithin(String bus, String name) {
        return assertTimeoutPreemptively(Duration.ofSeconds(10), () -> binding.bind(bus, name));
    }
}
