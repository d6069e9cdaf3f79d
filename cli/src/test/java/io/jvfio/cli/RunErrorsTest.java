package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.testing.StockKernel;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jvfio run} refuses what cannot be assigned with one line naming it, before it needs KVM: so
 * these run (and mean the same) with or without /dev/kvm.
 */
class RunErrorsTest {
    @TempDir
    Path directory;

    @Test
    void badDeviceStringIsAUsageErrorNamingTheProperty() {
        CliRunner run = CliRunner.run("run", "--guest", "hello", "--device", "vfio-platform,sockt=/tmp/x.sock");

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio run: Invalid value for option '--device'")
                .contains("unknown property 'sockt'");
    }

    @Test
    void unknownDeviceTypeIsAUsageError() {
        CliRunner run = CliRunner.run("run", "--guest", "hello", "--device", "vfio-pci,socket=/tmp/x.sock");

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines()).singleElement().asString().contains("unknown device type 'vfio-pci'");
    }

    @Test
    void missingSocketFailsWithOneLineNamingIt() {
        Path socket = directory.resolve("nobody-listens.sock");

        CliRunner run = CliRunner.run("run", "--guest", "hello", "--device", "vfio-platform,socket=" + socket);

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(run.errLines())
                .singleElement()
                .asString()
                .isEqualTo("jvfio run: vfio " + socket + ": cannot connect to the vfio-user server: connect " + socket
                        + " failed: No such file or directory (ENOENT)");
    }

    @Test
    void nonPlatformDeviceIsRefusedWithOneLine() throws Exception {
        Path socket = directory.resolve("pci.sock");
        try (VfioUserServer server = VfioUserServer.start(socket, new PciFlaggedModel())) {
            CliRunner run =
                    CliRunner.run("run", "--guest", "hello", "--device", "vfio-platform,id=nic,socket=" + socket);

            assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
            assertThat(run.errLines())
                    .singleElement()
                    .asString()
                    .isEqualTo(
                            "jvfio run: vfio nic: not a platform device (flags RESET|PCI): only VFIO platform devices can be assigned");
        }
    }

    @Test
    void unknownGuestIsAUsageError() {
        CliRunner run = CliRunner.run("run", "--guest", "no-such-guest");

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines())
                .singleElement()
                .asString()
                .contains("'no-such-guest' is neither a file nor a built-in guest");
    }

    @Test
    void tooManyGuestArgumentsAreAUsageError() {
        String[] args = {
            "run", "--guest", "hello", "--arg", "1", "--arg", "2", "--arg", "3", "--arg", "4", "--arg", "5", "--arg",
            "6", "--arg", "7", "--arg", "8", "--arg", "9"
        };

        CliRunner run = CliRunner.run(args);

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines()).singleElement().asString().contains("at most 8 guest arguments, got 9");
    }

    @Test
    void missingRequiredOptionIsAUsageErrorNamingIt() {
        CliRunner run = CliRunner.run("run");

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines()).singleElement().asString().contains("--guest");
    }

    @Test
    void timeoutTooLongToWaitForIsAUsageErrorBeforeTheMachineIsBuilt() {
        // 10^10 s is past what a Duration holds in nanoseconds: the wait would fail after the boot.
        CliRunner run = CliRunner.run("run", "--guest", "hello", "--timeout", "10000000000");

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio run: --timeout: wants 1..9223372036 seconds, got 10000000000");
    }

    @Test
    void guestAndKernelTogetherAreAUsageError() {
        CliRunner run = CliRunner.run("run", "--guest", "hello", "--kernel", "/boot/vmlinuz");

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines()).singleElement().asString().contains("--guest", "--kernel", "mutually exclusive");
    }

    @Test
    void initrdWithoutAKernelIsAUsageError() {
        CliRunner run = CliRunner.run("run", "--guest", "hello", "--initrd", "/tmp/initrd");

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines()).singleElement().asString().startsWith("jvfio run: --initrd goes with --kernel");
    }

    @Test
    void guestArgumentsWithAKernelAreAUsageError() throws Exception {
        Path kernel = Files.write(directory.resolve("bzImage"), new byte[4096]);

        CliRunner run = CliRunner.run("run", "--kernel", kernel.toString(), "--arg", "1");

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio run: --arg goes with --guest; a kernel takes --append");
    }

    @Test
    void missingKernelFileIsAUsageErrorNamingIt() {
        Path missing = directory.resolve("no-such-bzImage");

        CliRunner run = CliRunner.run("run", "--kernel", missing.toString());

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(run.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio run: --kernel: no such file: " + missing);
    }

    @Test
    void aFileThatIsNoKernelFailsWithOneLineBeforeKvmIsOpened() throws Exception {
        Path kernel = Files.write(directory.resolve("not-a-kernel"), new byte[4096]);

        CliRunner run = CliRunner.run("run", "--kernel", kernel.toString());

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(run.errLines())
                .singleElement()
                .asString()
                .isEqualTo("jvfio run: bzImage: no \"HdrS\" at 0x202 (not a Linux kernel image)");
    }

    @Test
    void debiansKernelInTooLittleRamSaysHowMuchItNeeds() {
        Path kernel = StockKernel.assumeBzImage();

        CliRunner run = CliRunner.run("run", "--kernel", kernel.toString(), "--ram", "64");

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(run.errLines())
                .singleElement()
                .asString()
                .matches(
                        "jvfio run: bzImage: the kernel needs RAM up to 0x[0-9a-f]+ \\(\\d+ MiB\\), the machine has 64 MiB");
    }

    @Test
    void helpListsEveryCommandAndTheExitCodes() {
        CliRunner help = CliRunner.run("--help");

        assertThat(help.exitCode()).isZero();
        assertThat(help.out())
                .contains(
                        "demo",
                        "run",
                        "serve",
                        "info",
                        "dt",
                        "bind",
                        "unbind",
                        "--trace",
                        "Exit codes:",
                        "2  usage error");
    }

    @Test
    void runsHelpNamesEveryDeviceProperty() {
        CliRunner help = CliRunner.run("run", "--help");

        assertThat(help.exitCode()).isZero();
        assertThat(DeviceSpecParser.propertyNames())
                .allSatisfy(name -> assertThat(help.out()).contains(name + "="));
    }

    /** A device that says it is PCI: what a platform assignment must refuse. */
    private static final class PciFlaggedModel implements DeviceModel {
        @Override
        public int deviceFlags() {
            return DeviceInfo.FLAG_PCI | DeviceInfo.FLAG_RESET;
        }

        @Override
        public List<RegionSpec> regions() {
            return List.of(RegionSpec.callbacks(0, 4096, new RegionHandler() {
                @Override
                public long read(long offset, int size) {
                    return 0;
                }

                @Override
                public void write(long offset, int size, long value) {}
            }));
        }
    }
}
