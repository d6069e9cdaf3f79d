package io.jvfio.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import io.jvfio.kvm.GuestCodeProbe;
import io.jvfio.sys.testing.StockKernel;
import io.jvfio.sys.testing.Tiers;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code jvfio run --kernel}: Debian's stock kernel boots to a busybox /init, which says so in the kernel
 * log and ends the machine through the exit port. The console is jvfio's port 0x3F8 sink: earlyprintk
 * writes there from the first messages on, then the ttyS0 console (which needs only the line status
 * register to say "empty"); {@code quiet} keeps the console short, since every byte is a port exit (slow
 * in the nested guest), and {@code panic=-1} turns a failed boot into a quick triple fault instead of a
 * wait for the timeout.
 */
@Tag(Tiers.LINUX)
class StockKernelBootTest {
    private static final String APPEND = "console=ttyS0 earlyprintk=serial quiet panic=-1";

    @TempDir
    Path directory;

    @BeforeEach
    void needsAKvmThatRunsLinux() {
        Tiers.assumeKvm();
        boolean runs = GuestCodeProbe.runsInt3();
        if (!runs) {
            System.err.println("SKIPPED (tier linux): this /dev/kvm does not run int3 in its guests (a software KVM's"
                    + " emulator), so a stock kernel cannot boot; tools/nested/tiers.sh linux runs this tier in the nested guest");
        }
        Assumptions.assumeTrue(runs, "this /dev/kvm cannot run a stock Linux kernel");
    }

    @Test
    void bzImageBootsToInitWhichExitsThroughTheExitPort() throws Exception {
        Path kernel = StockKernel.assumeBzImage();

        CliRunner run = boot(kernel);

        assertThat(run.out()).as("the console").contains(StockKernel.INIT_MARKER);
        assertThat(run.exitCode()).as("the console:\n%s\nstderr:\n%s", run.out(), run.err())
                .isEqualTo(StockKernel.INIT_EXIT_CODE);
    }

    @Test
    void pvhVmlinuxBootsToInitWhichExitsThroughTheExitPort() throws Exception {
        Path vmlinux = StockKernel.assumeVmlinux();

        CliRunner run = boot(vmlinux);

        assertThat(run.out()).as("the console").contains(StockKernel.INIT_MARKER);
        assertThat(run.exitCode()).as("the console:\n%s\nstderr:\n%s", run.out(), run.err())
                .isEqualTo(StockKernel.INIT_EXIT_CODE);
    }

    private CliRunner boot(Path kernel) throws Exception {
        Path initramfs = Files.write(directory.resolve("initramfs.cpio"), StockKernel.busyboxInitramfs());
        return CliRunner.run("run", "--kernel", kernel.toString(), "--initrd", initramfs.toString(), "--append", APPEND,
                "--ram", "256", "--timeout", "240");
    }
}
