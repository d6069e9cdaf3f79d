package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.ServerProcess;
import io.jvfio.sys.testing.StockKernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the linux tier's device tests share: Debian's stock kernel booted by {@code jvfio run --kernel} with
 * one device that another process serves over vfio-user assigned, and the reading of what its /init printed.
 */
final class AssignedDeviceBoot {
    /**
     * The driver core's debug messages (dynamic debug, on in Debian's kernels) put each binding in the
     * kernel log, which virtio_mmio itself does not; under {@code quiet} they reach the log, not the console.
     */
    static final String APPEND_LOGGING_BINDINGS =
            "console=ttyS0 earlyprintk=serial quiet panic=-1 dyndbg=\"file drivers/base/dd.c +p\"";
    /** What the driver core logs when virtio_mmio has bound the DSDT's device. */
    static final Pattern VIRTIO_MMIO_BOUND =
            Pattern.compile("driver: 'virtio-mmio': \\w+: bound to device 'LNRO0005:00'");
    /** The platform bus's first GSI, which the only assigned device gets. */
    static final int FIRST_GSI = 16;

    private AssignedDeviceBoot() {}

    /**
     * The modules a virtio device needs (Debian builds them =m and the nested guest's own initramfs has
     * none): the virtio-mmio transport's, then {@code driver}, each relative to the kernel's module tree.
     */
    static List<String> virtioModules(String driver) {
        return List.of(
                "kernel/drivers/virtio/virtio_ring.ko",
                "kernel/drivers/virtio/virtio.ko",
                "kernel/drivers/virtio/virtio_mmio.ko",
                driver);
    }

    /**
     * The prepared kernel's modules at {@code paths} (as {@link StockKernel#assumeModule}), keyed by where
     * /init finds them: {@code modules/NAME.ko}.
     */
    static Map<String, byte[]> modules(List<String> paths) throws IOException, InterruptedException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String module : paths) {
            files.put("modules/" + Path.of(module).getFileName(), StockKernel.assumeModule(module));
        }
        return files;
    }

    /**
     * Boots the bzImage with {@code initramfs} and {@code device} assigned with the {@code -device}
     * properties {@code properties}, waits for the device to see its client leave, and prints how long the
     * boot took, said as {@code what}.
     */
    static Boot boot(
            Path directory, byte[] initramfs, String append, ServerProcess device, String properties, String what)
            throws Exception {
        Path kernel = StockKernel.assumeBzImage();
        Path image = Files.write(directory.resolve("initramfs.cpio"), initramfs);
        long started = System.nanoTime();
        CliRunner run = CliRunner.run(
                "run",
                "--kernel",
                kernel.toString(),
                "--initrd",
                image.toString(),
                "--append",
                append,
                "--ram",
                "256",
                "--timeout",
                "300",
                "--device",
                "vfio-platform,socket=" + device.socket() + "," + properties + ",x-reply-timeout-ms=60000");
        System.err.printf("%s: %s in %.1f s%n", properties, what, (System.nanoTime() - started) / 1e9);
        Map<String, Long> counters = device.awaitClientLeft(1, Duration.ofSeconds(60));
        String context = "the console:\n" + run.out() + "\nstderr:\n" + run.err() + "\nthe device: " + counters;
        assertThat(run.exitCode()).as(context).isZero();
        return new Boot(run.out(), counters, context);
    }

    /** A finished boot: its console, the device's counters, and both as an assertion's context. */
    record Boot(String console, Map<String, Long> device, String context) {
        /** The console from /init's {@code marker} on, which it must have printed. */
        String report(String marker) {
            assertThat(console).as(context).contains(marker);
            return console.substring(console.indexOf(marker));
        }

        /** The hex bytes of the report's line that starts with {@code prefix}. */
        byte[] hexLine(String report, String prefix) {
            return HexFormat.of()
                    .parseHex(report.lines()
                            .filter(line -> line.startsWith(prefix))
                            .findFirst()
                            .orElseThrow(() -> new AssertionError("no line '" + prefix + "'\n" + context))
                            .substring(prefix.length())
                            .strip());
        }

        /**
         * The report's /proc/interrupts line for {@code name} on IOAPIC pin {@code gsi} as a level interrupt
         * (Linux numbers its interrupts on its own; the chip column names the pin), after checking that the
         * guest took some and no more than the device's line signalled (a signal may end up in no handler
         * run: an eventfd read once for two signals on the user-side path).
         */
        String levelInterrupts(String report, int gsi, String name) {
            String interrupts = report.lines()
                    .filter(line -> line.matches(" *\\d+:.* IO-APIC +" + gsi + "-fasteoi +" + name))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(name + " on IO-APIC pin " + gsi
                            + " (level: fasteoi) is missing from /proc/interrupts\n" + context));
            long taken = Long.parseLong(interrupts.trim().split("\\s+")[1]);
            assertThat(taken).as(interrupts).isPositive();
            assertThat(device.get("line0.signals")).as(context).isGreaterThanOrEqualTo(taken);
            return interrupts.strip();
        }
    }
}
