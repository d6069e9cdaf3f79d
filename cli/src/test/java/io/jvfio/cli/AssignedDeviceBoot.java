package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.ServerProcess;
import io.jvfio.machine.testing.StockKernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
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
    /**
     * jvfio's summary of a user-side IRQ: triggers, injections, EOIs, unmasks, with nothing coalesced,
     * cancelled or ended by a reset (then, on jvfio's irqchip, its IOAPIC pin's counts).
     */
    private static final Pattern USER_SIDE = Pattern.compile(
            "user side, (\\d+) triggers, (\\d+) injections, 0 coalesced, 0 cancelled, (\\d+) EOIs, (\\d+) unmasks,"
                    + " 0 ended by a reset(; .*)?");
    /** The platform bus's first GSI, which the first assigned device gets; the next ones get the GSIs after it. */
    static final int FIRST_GSI = 16;

    /**
     * Said when a boot is tried once more. Under TCG's emulation of SVM in the nested guest a stock kernel
     * has now and then triple-faulted, before its /init ran or after (once at its power-off), or found its
     * own compressed image corrupt (bench/RESULTS.md and tools/nested/README.md: the nested guest's KVM
     * paths have failed so without a fault of jvfio's; KVM on AMD resets the vCPU at the fault, so its
     * registers cannot say where); a boot that fails so twice fails the test.
     */
    static final String ONCE_MORE =
            "the guest died before its /init ran, or triple-faulted in the nested guest: booting it once more (an"
                    + " emulation failure of the nested guest's KVM seen before; twice fails the test)";

    /** Whether this JVM runs in tools/nested's guest, whose KVM runs on TCG's emulation of SVM. */
    private static final boolean NESTED = "1".equals(System.getenv("JVFIO_NESTED"));

    private AssignedDeviceBoot() {}

    /** Whether a boot that ended with {@code exitCode} and printed {@code console} failed before its /init ran. */
    static boolean diedBeforeInit(int exitCode, String console) {
        return exitCode != 0 && !console.contains(StockKernel.INIT_MARKER);
    }

    /**
     * Whether a boot that ended so is booted once more ({@link #ONCE_MORE}): it died before its /init ran,
     * or, in the nested guest, jvfio said on {@code stderr} that it triple-faulted, wherever it was.
     */
    static boolean bootOnceMore(int exitCode, String console, String stderr) {
        return diedBeforeInit(exitCode, console) || (NESTED && exitCode != 0 && stderr.contains("triple-faulted"));
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
        return boot(directory, initramfs, append, List.of(device), properties, what);
    }

    /**
     * As {@link #boot(Path, byte[], String, ServerProcess, String, String)} with {@code devices} assigned
     * in order (the platform bus gives them GSIs from {@link #FIRST_GSI} on).
     */
    static Boot boot(
            Path directory,
            byte[] initramfs,
            String append,
            List<ServerProcess> devices,
            String properties,
            String what)
            throws Exception {
        Path kernel = StockKernel.assumeBzImage();
        Path image = Files.write(directory.resolve("initramfs.cpio"), initramfs);
        List<String> args = new ArrayList<>(List.of(
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
                "300"));
        for (ServerProcess device : devices) {
            args.addAll(List.of(
                    "--device",
                    "vfio-platform,socket=" + device.socket() + "," + properties + ",x-reply-timeout-ms=60000"));
        }
        long started = System.nanoTime();
        CliRunner run = CliRunner.run(args.toArray(String[]::new));
        int clients = 1;
        if (bootOnceMore(run.exitCode(), run.out(), run.err())) {
            System.err.printf("%s: %s%n%s%n", properties, ONCE_MORE, run.err().strip());
            started = System.nanoTime();
            run = CliRunner.run(args.toArray(String[]::new));
            clients = 2;
        }
        System.err.printf("%s: %s in %.1f s%n", properties, what, (System.nanoTime() - started) / 1e9);
        List<Map<String, Long>> counters = new ArrayList<>();
        for (ServerProcess device : devices) {
            counters.add(device.awaitClientLeft(clients, Duration.ofSeconds(60)));
        }
        String context = "the console:\n" + run.out() + "\nstderr:\n" + run.err() + "\nthe devices: " + counters;
        assertThat(run.exitCode()).as(context).isZero();
        return new Boot(run.out(), run.err(), counters, context);
    }

    /**
     * A finished boot: its console, what {@code jvfio run} said on stderr, each device's counters, and all
     * three as an assertion's context.
     */
    record Boot(String console, String jvfio, List<Map<String, Long>> devices, String context) {
        /** The first device's counters. */
        Map<String, Long> device() {
            return devices.getFirst();
        }

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
         * The report's /proc/interrupts line for {@code name} on IOAPIC pin {@code gsi} (the device assigned
         * {@code gsi - FIRST_GSI}th) as a level interrupt (Linux numbers its interrupts on its own; the chip
         * column names the pin), after checking the guest's count against the device's line and jvfio's IRQ
         * summary at exit. The line masks itself at each signal until it is unmasked, so no two signals
         * share an eventfd read; /init reads /proc/interrupts when the device has nothing left to do, so no
         * signal comes after it. On the irqfd path the resamplefd unmasks at the guest's EOI: one signal,
         * one interrupt. On the user side jvfio reads, injects, ends and unmasks each signal; when it ends
         * the IRQ at the device's declared ack ({@code endedAtTheAck}) that is one interrupt each too, but
         * when it ends it at the handler's first register access the line, still asserted, fires again and
         * jvfio raises the GSI again while the handler runs, which the guest takes as one interrupt: there
         * the guest can only count fewer.
         */
        String levelInterrupts(String report, int gsi, String name, boolean endedAtTheAck) {
            String interrupts = report.lines()
                    .filter(line -> line.matches(" *\\d+:.* IO-APIC +" + gsi + "-fasteoi +" + name))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(name + " on IO-APIC pin " + gsi
                            + " (level: fasteoi) is missing from /proc/interrupts\n" + context));
            long taken = Long.parseLong(interrupts.trim().split("\\s+")[1]);
            assertThat(taken).as(interrupts).isPositive();
            Map<String, Long> device = devices.get(gsi - FIRST_GSI);
            String signals = Long.toString(device.get("line0.signals"));
            String counts = "/proc/interrupts: " + interrupts.strip() + "; the device: " + device + "; jvfio: "
                    + irqSummary(gsi) + "\n" + context;
            Matcher userSide = USER_SIDE.matcher(irqSummary(gsi));
            if (!userSide.matches()) {
                assertThat(irqSummary(gsi))
                        .as("KVM counts nothing jvfio can see on the irqfd path\n" + counts)
                        .isEqualTo("KVM irqfd, delivered and ended inside KVM");
                assertThat(Long.toString(taken))
                        .as("the guest took each of the device's signals once\n" + counts)
                        .isEqualTo(signals);
                return interrupts.strip();
            }
            assertThat(List.of(userSide.group(1), userSide.group(2), userSide.group(3), userSide.group(4)))
                    .as("jvfio read, injected, ended and unmasked each of the device's signals once\n" + counts)
                    .containsOnly(signals);
            if (endedAtTheAck) {
                assertThat(Long.toString(taken))
                        .as("the guest took each injection once\n" + counts)
                        .isEqualTo(userSide.group(2));
            } else {
                assertThat(taken)
                        .as("the guest took no more interrupts than jvfio injected\n" + counts)
                        .isLessThanOrEqualTo(Long.parseLong(userSide.group(2)));
            }
            return interrupts.strip();
        }

        /** What {@code jvfio run}'s IRQ summary says of the level IRQ on {@code gsi}, after the GSI. */
        String irqSummary(int gsi) {
            String prefix = "(GSI " + gsi + ", level): ";
            return jvfio.lines()
                    .filter(line -> line.startsWith("jvfio run: vfio ") && line.contains(prefix))
                    .findFirst()
                    .map(line -> line.substring(line.indexOf(prefix) + prefix.length()))
                    .orElseThrow(() -> new AssertionError("jvfio run said nothing of GSI " + gsi + "\n" + context));
        }
    }
}
