package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jvfio bind/unbind} on a built sysfs tree whose attributes are plain files. */
class HostDriverCommandTest {
    private static final String DEVICE = "fff51000.ethernet";

    @TempDir
    Path sysfs;

    private Path device;

    @BeforeEach
    void buildTree() throws Exception {
        Path bus = Files.createDirectories(sysfs.resolve("bus/platform"));
        Path driver = Files.createDirectories(bus.resolve("drivers/calxedaxgmac"));
        Files.writeString(driver.resolve("unbind"), "");
        Files.writeString(bus.resolve("drivers_probe"), "");
        device = Files.createDirectories(bus.resolve("devices").resolve(DEVICE));
        Files.writeString(device.resolve("driver_override"), "(null)\n");
        Files.createSymbolicLink(device.resolve("driver"), device.relativize(driver));
    }

    @Test
    void bindWritesTheOverrideUnbindsAndReprobes() throws Exception {
        // The tree's files do not re-probe, so the device still shows its old driver afterwards.
        CliRunner bind = CliRunner.run("bind", DEVICE, "--sysfs-root", sysfs.toString());

        assertThat(bind.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(bind.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio bind: vfio " + DEVICE + ": vfio-platform did not take the device: it is bound to"
                        + " calxedaxgmac after the re-probe (driver before: calxedaxgmac)");
        assertThat(Files.readString(device.resolve("driver_override"))).isEqualTo("vfio-platform");
        assertThat(Files.readString(sysfs.resolve("bus/platform/drivers/calxedaxgmac/unbind")))
                .isEqualTo(DEVICE);
        assertThat(Files.readString(sysfs.resolve("bus/platform/drivers_probe")))
                .isEqualTo(DEVICE);
    }

    @Test
    void bindThatLeavesTheDeviceWithoutVfioFailsWithOneLineSayingWhy() throws Exception {
        Files.delete(device.resolve("driver"));

        CliRunner bind = CliRunner.run("bind", DEVICE, "--sysfs-root", sysfs.toString());

        assertThat(bind.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(bind.out()).isEmpty();
        assertThat(bind.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio bind: vfio " + DEVICE + ": vfio-platform did not take the device: no driver has it"
                        + " after the re-probe (driver before: none)");
    }

    @Test
    void bindOfADeviceOnVfioAlreadySucceeds() throws Exception {
        Path vfio = Files.createDirectories(sysfs.resolve("bus/platform/drivers/vfio-platform"));
        Files.delete(device.resolve("driver"));
        Files.createSymbolicLink(device.resolve("driver"), device.relativize(vfio));

        CliRunner bind = CliRunner.run("bind", DEVICE, "--sysfs-root", sysfs.toString());

        assertThat(bind.exitCode()).as(bind.err()).isZero();
        assertThat(bind.out().strip()).isEqualTo(DEVICE + ": driver vfio-platform -> vfio-platform");
    }

    @Test
    void unbindClearsTheOverride() throws Exception {
        CliRunner unbind = CliRunner.run("unbind", DEVICE, "--sysfs-root", sysfs.toString());

        assertThat(unbind.exitCode()).as(unbind.err()).isZero();
        assertThat(Files.readString(device.resolve("driver_override"))).isEqualTo("\n");
    }

    @Test
    void bindOfAMissingDeviceFailsWithOneLine() {
        CliRunner bind = CliRunner.run("bind", "absent.device", "--sysfs-root", sysfs.toString());

        assertThat(bind.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(bind.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio bind: vfio absent.device: no such host device");
    }

    @Test
    void sysfsRootIsHiddenFromHelp() {
        assertThat(CliRunner.run("bind", "--help").out()).doesNotContain("sysfs-root");
    }
}
