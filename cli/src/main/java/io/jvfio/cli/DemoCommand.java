package io.jvfio.cli;

import io.jvfio.devices.OptionNumbers;
import io.jvfio.devices.ServerProcess;
import io.jvfio.machine.GuestFailedException;
import io.jvfio.machine.IrqchipSelection;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.irqchip.ApicCounters;
import io.jvfio.machine.irqchip.IrqchipCounters;
import io.jvfio.platform.AssignedMachine;
import io.jvfio.platform.IrqPath;
import io.jvfio.platform.VfioPlatformDevice;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.platform.irq.IrqController;
import io.jvfio.vfio.SparseArea;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * {@code jvfio demo}: the whole system in one command. The test device is served by a child process
 * ({@code jvfio serve test-device}), assigned to a KVM guest running the {@code testdev} driver, and the
 * guest is run twice: IRQs by KVM irqfd, then by the user-side state machine ({@code x-irqfd=off}). The
 * report shows how regions were mapped, each line's IRQ path, the interrupts as the guest, the device and
 * the machine counted them (which must agree), trapped accesses, fast/slow switches and the rate. With
 * {@code --linux} it is {@link LinuxDemo} instead: a stock kernel's own drivers and served devices.
 */
final class DemoCommand implements Subcommand {
    /** Interrupts per line with real KVM. */
    static final int DEFAULT_INTERRUPTS = 500;
    /** Interrupts per line inside the nested guest (software emulation), where each costs milliseconds. */
    static final int NESTED_INTERRUPTS = 25;

    static final int LINES = 2;
    private static final int MODE_RAISE = 1;
    private static final int FLAG_RAM_CHECK = 1;
    private static final Duration GUEST_TIMEOUT = Duration.ofMinutes(5);
    private static final Path KVM = Path.of("/dev/kvm");

    static final CommandSpec SPEC = CommandSpec.of(
            "demo",
            "Serve the test device, boot a guest with it, report.",
            "Serve the test device in a child process, boot the testdev guest with it assigned, run it with irqfd and "
                    + "on the user-side path, and report what happened. With --linux, boot Debian's stock kernel instead "
                    + "with a UART and a virtio entropy device assigned, each served by a child process, and report what "
                    + "its own drivers did with them. Needs /dev/kvm (./jvfio demo runs it in a nested guest where "
                    + "/dev/kvm is missing, and demo --linux also where this KVM cannot boot Linux; JVFIO_NESTED=off "
                    + "turns that off).",
            OptionSpec.flag(
                    "Boot the stock kernel tools/nested/prepare.sh fetched (from $JVFIO_NESTED_CACHE, default "
                            + "~/.cache/jvfio-nested/current/vmlinuz, with its virtio modules) to a busybox /init (made "
                            + "from /bin/busybox, Debian's busybox-static), with jvfio serve ns16550a and jvfio serve "
                            + "virtio-rng --seed assigned on the default irqchip; print the guest's own lines that show "
                            + "8250 and virtio binding them through ACPI, a line each way through ttyS1, the bytes it "
                            + "read from /dev/hwrng against the seed, and the interrupts and DMA as the guest, jvfio "
                            + "and the devices counted them. Needs a KVM that runs a stock kernel (a probe guest tells).",
                    "--linux"),
            OptionSpec.value(
                    "N",
                    "Interrupts per line and run (default " + DEFAULT_INTERRUPTS + "; " + NESTED_INTERRUPTS
                            + " inside the nested guest, where everything is emulated).",
                    "-n",
                    "--interrupts"),
            OptionSpec.value("PROPS", MachineProperties.DESCRIPTION, "--machine"));

    /** What one guest run showed. */
    record RunResult(
            String label,
            int exitCode,
            String console,
            List<Integer> reports,
            List<VfioPlatformDevice.PlacedRegion> regions,
            List<List<SparseArea>> mappedAreas,
            List<VfioPlatformDevice.WiredIrq> irqs,
            List<IrqController.IrqCounters> lineCounters,
            Optional<IrqController.DeviceIrqCounters> deviceCounters,
            double seconds,
            IrqchipSelection irqchip,
            Optional<IrqchipCounters> irqchipCounters,
            Map<String, Long> servedBefore,
            Map<String, Long> servedAfter) {
        long handled(int line) {
            return reports.get(3 * line);
        }

        long raised(int line) {
            return reports.get(3 * line + 1);
        }

        long acked(int line) {
            return reports.get(3 * line + 2);
        }

        long spurious() {
            return reports.get(3 * LINES);
        }

        long served(String counter) {
            return servedAfter.getOrDefault(counter, 0L) - servedBefore.getOrDefault(counter, 0L);
        }
    }

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
        Optional<Integer> interrupts = args.value("--interrupts", OptionNumbers::parseInt);
        MachineProperties machine =
                args.value("--machine", MachineProperties::parse).orElse(MachineProperties.DEFAULTS);
        if (args.has("--linux")) {
            if (interrupts.isPresent()) {
                throw new UsageException("--interrupts goes with the testdev demo, not with --linux");
            }
            return LinuxDemo.run(machine, out);
        }
        boolean nested = "1".equals(System.getenv("JVFIO_NESTED"));
        int n = interrupts.orElse(nested ? NESTED_INTERRUPTS : DEFAULT_INTERRUPTS);
        if (n < 1) {
            throw new UsageException("--interrupts: wants at least 1, got " + n);
        }
        if (!Files.exists(KVM)) {
            throw new IOException("no /dev/kvm: the demo needs KVM");
        }
        // A freshly started JVM under software emulation answers its first requests slowly.
        String replyTimeout = nested ? ",x-reply-timeout-ms=120000" : ",x-reply-timeout-ms=20000";
        Path directory = Files.createTempDirectory("jvfio-demo");
        long demoStart = System.nanoTime();
        try (ServerProcess served = ServeCommand.startChild(
                "test-device",
                directory.resolve("test-device.sock"),
                Duration.ofMinutes(2),
                nested ? List.of("-XX:TieredStopAtLevel=1") : List.of(),
                "--irqs",
                Integer.toString(LINES))) {
            out.printf(
                    "jvfio demo: the test device served by a child process (jvfio serve test-device, pid %d) on %s%n",
                    served.pid(), served.socket());
            out.printf(
                    "  guest testdev: %d interrupts per line on lines 0 (edge) and 1 (level), raised by the guest "
                            + "one at a time (RAISE, wait, ACK), after a RAM check%s%n",
                    n, nested ? "; nested guest, software emulation: few interrupts" : "");
            IrqchipSelection irqchip = IrqchipSelection.forHost(machine.irqchip());
            out.printf(
                    "  irqchip: %s%s%n%n",
                    irqchip.inKernel()
                            ? "KVM's in-kernel IOAPIC and LAPIC"
                            : "jvfio's own IOAPIC and LAPIC, interrupts injected with KVM_INTERRUPT",
                    " (" + irqchip + ")");
            out.flush();
            String socket = ",socket=" + served.socket().toString().replace(",", ",,");
            List<RunResult> results = new ArrayList<>();
            Map<String, Long> before = Map.of();
            String[][] variants = {{"irqfd", ""}, {"user side", ",x-irqfd=off"}};
            for (int i = 0; i < variants.length; i++) {
                PlatformDeviceConfig config =
                        DeviceSpecParser.parse("vfio-platform,id=test-device" + socket + replyTimeout + variants[i][1]);
                RunResult result = run(variants[i][0], config, machine, n, served, i + 1, before);
                before = result.servedAfter();
                results.add(result);
                report(out, i + 1, result, n);
                out.flush();
            }
            List<String> problems = new ArrayList<>();
            for (RunResult result : results) {
                problems.addAll(check(result, n));
            }
            return verdict(out, demoStart, problems, "guest, device registers, device process, machine");
        } finally {
            Files.deleteIfExists(directory.resolve("test-device.sock"));
            Files.deleteIfExists(directory);
        }
    }

    /**
     * The demo's last line and exit status: how long it took, then {@code ok} when {@code problems} is
     * empty (every count of {@code counters} agrees) or {@code MISMATCH} and each problem.
     */
    static int verdict(PrintWriter out, long demoStartNanos, List<String> problems, String counters) {
        out.printf(Locale.ROOT, "%ndemo finished in %.1f s: ", (System.nanoTime() - demoStartNanos) / 1e9);
        if (problems.isEmpty()) {
            out.println("ok, every count agrees (" + counters + ")");
            return 0;
        }
        out.println("MISMATCH: " + String.join("; ", problems));
        return Jvfio.EXIT_FAILURE;
    }

    private static RunResult run(
            String label,
            PlatformDeviceConfig config,
            MachineProperties machine,
            int n,
            ServerProcess served,
            int client,
            Map<String, Long> before)
            throws IOException, InterruptedException {
        MachineConfig machineConfig = machine.applyTo(MachineConfig.builder()
                        .guest("testdev")
                        .args(n, (1 << LINES) - 1, MODE_RAISE, 0, FLAG_RAM_CHECK))
                .build();
        RunResult partial;
        try (AssignedMachine assignment = AssignedMachine.create(machineConfig, List.of(config))) {
            VfioPlatformDevice device = assignment.devices().getFirst();
            long started = System.nanoTime();
            assignment.machine().start();
            int code;
            try {
                code = assignment.machine().awaitExit(GUEST_TIMEOUT);
            } catch (GuestFailedException e) {
                throw new IOException("run " + client + " (" + label + "): guest failed: " + e.reason());
            } catch (TimeoutException e) {
                throw new IOException("run " + client + " (" + label + "): the guest did not exit within "
                        + GUEST_TIMEOUT.toMinutes() + " min");
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            List<List<SparseArea>> areas = device.regions().stream()
                    .map(r -> r.fastPath() ? r.info().mappableAreas() : List.<SparseArea>of())
                    .toList();
            Optional<IrqController> controller = device.irqController();
            List<IrqController.IrqCounters> lines = new ArrayList<>();
            controller.ifPresent(c -> {
                for (int line = 0; line < c.irqCount(); line++) {
                    lines.add(c.counters(line));
                }
            });
            partial = new RunResult(
                    label,
                    code,
                    assignment.machine().console().strip(),
                    assignment.machine().reports(),
                    device.regions(),
                    areas,
                    device.irqs(),
                    lines,
                    controller.map(IrqController::deviceCounters),
                    seconds,
                    assignment.machine().irqchip(),
                    assignment.machine().irqchipCounters(),
                    before,
                    Map.of());
        }
        Map<String, Long> after = served.awaitClientLeft(client, Duration.ofSeconds(60));
        return new RunResult(
                partial.label(),
                partial.exitCode(),
                partial.console(),
                partial.reports(),
                partial.regions(),
                partial.mappedAreas(),
                partial.irqs(),
                partial.lineCounters(),
                partial.deviceCounters(),
                partial.seconds(),
                partial.irqchip(),
                partial.irqchipCounters(),
                before,
                after);
    }

    static void report(PrintWriter out, int number, RunResult r, int n) {
        boolean irqfd = r.irqs().stream().allMatch(w -> w.path() == IrqPath.IRQFD);
        boolean inKernel = r.irqchip().inKernel();
        String userSide = inKernel
                ? "eventfd -> jvfio's event loop -> KVM_IRQ_LINE"
                : "eventfd -> jvfio's event loop -> jvfio's IOAPIC -> KVM_INTERRUPT";
        out.printf(
                Locale.ROOT,
                "run %d: %s%s: guest exit %d after %.2f s%n",
                number,
                r.label(),
                irqfd
                        ? " (KVM irqfd, resamplefd for the level line)"
                        : " (" + userSide + (r.label().equals("irqfd") ? "; KVM irqfd needs the in-kernel irqchip" : "")
                                + ")",
                r.exitCode(),
                r.seconds());
        out.println("  guest: " + r.console().replace("\n", "\n  guest: "));
        long trapped = 0;
        for (int i = 0; i < r.regions().size(); i++) {
            VfioPlatformDevice.PlacedRegion region = r.regions().get(i);
            trapped += region.trappedReads() + region.trappedWrites();
            String mapping;
            if (r.mappedAreas().get(i).isEmpty()) {
                mapping = "trapped (no mmap): every access exits to jvfio";
            } else {
                List<String> windows = r.mappedAreas().get(i).stream()
                        .map(a -> "[0x" + Long.toHexString(a.offset()) + ", 0x" + Long.toHexString(a.end()) + ")")
                        .toList();
                mapping = "fast path: " + String.join(" ", windows) + " mmap'ed into the guest, the rest trapped";
            }
            out.printf(
                    "  region %d: %s at 0x%x, %s; trapped %d reads, %d writes%n",
                    region.info().index(),
                    InfoCommand.bytes(region.info().size()),
                    region.guestBase(),
                    mapping,
                    region.trappedReads(),
                    region.trappedWrites());
        }
        for (VfioPlatformDevice.WiredIrq irq : r.irqs()) {
            out.printf(
                    "  line %d: GSI %d, %s, %s%n",
                    irq.info().index(),
                    irq.gsi(),
                    irq.info().automasked() ? "level (automasked)" : "edge",
                    irq.path() == IrqPath.IRQFD
                            ? (irq.info().automasked() ? "KVM irqfd + resamplefd" : "KVM irqfd")
                            : "user side: " + userSide + ", EOI on the next trapped access"
                                    + (!inKernel && irq.info().automasked() ? ", unmasked at the guest's EOI" : ""));
        }
        // A guest that stopped early (a panic: its reason is on the console above) reported fewer values
        // than the counts below read; check() names the mismatch.
        boolean reported = r.reports().size() == 3 * LINES + 1;
        if (!reported) {
            out.println("  the guest reported " + r.reports().size() + " values, not the " + (3 * LINES + 1)
                    + " of a finished run");
        }
        for (int line = 0; reported && line < LINES; line++) {
            StringBuilder text = new StringBuilder(String.format(
                    Locale.ROOT,
                    "  interrupts line %d: guest handled %d, device RAISE_COUNT %d ACK_COUNT %d, device process raises %d acks %d",
                    line,
                    r.handled(line),
                    r.raised(line),
                    r.acked(line),
                    r.served("line" + line + ".raises"),
                    r.served("line" + line + ".acks")));
            if (line < r.lineCounters().size()) {
                IrqController.IrqCounters c = r.lineCounters().get(line);
                text.append(String.format(
                        Locale.ROOT,
                        ", machine injections %d EOIs %d unmasks %d coalesced %d",
                        c.injections(),
                        c.eois(),
                        c.unmasks(),
                        c.coalesced()));
            } else {
                text.append(", machine: delivered inside KVM (no user-space injection)");
            }
            out.println(text);
        }
        long total = 0;
        for (int line = 0; reported && line < LINES; line++) {
            total += r.handled(line);
        }
        r.irqchipCounters().ifPresent(chip -> {
            for (ApicCounters lapic : chip.localApics()) {
                out.printf(
                        Locale.ROOT,
                        "  irqchip: vCPU %d took %d interrupts (KVM_INTERRUPT), %d EOIs, %d kicks, "
                                + "%d interrupt-window requests, %d timer ticks%n",
                        lapic.vcpu(),
                        lapic.injected(),
                        lapic.endsOfInterrupt(),
                        lapic.kicks(),
                        lapic.windowRequests(),
                        lapic.timerFires());
            }
            for (VfioPlatformDevice.WiredIrq irq : r.irqs()) {
                out.printf(
                        Locale.ROOT,
                        "  irqchip: IOAPIC pin %d delivered %d times%s%n",
                        irq.gsi(),
                        chip.deliveries(irq.gsi()),
                        irq.info().automasked()
                                ? ", " + chip.endsOfInterrupt(irq.gsi()) + " ended by the guest's EOI"
                                : "");
            }
        });
        out.printf(
                "  spurious %s; trapped accesses %d in all%n",
                reported ? Long.toString(r.spurious()) : "not reported", trapped);
        out.println(r.deviceCounters()
                .map(d -> String.format(
                        Locale.ROOT,
                        "  fast/slow switches: fast path off %d times, back on %d times (mmap timer), pending peak %d",
                        d.fastPathOff(),
                        d.fastPathOn(),
                        d.pendingPeak()))
                .orElse("  fast/slow switches: none (with irqfd the fast path stays on)"));
        out.printf(
                Locale.ROOT,
                "  rate: %d interrupts in %.2f s = %.0f interrupts/s (each one a guest RAISE write, "
                        + "an interrupt, an ACK write)%n",
                total,
                r.seconds(),
                total / r.seconds());
        out.println();
    }

    /** What does not add up in a run, as short phrases; empty when everything agrees. */
    static List<String> check(RunResult r, int n) {
        List<String> problems = new ArrayList<>();
        String run = r.label() + ": ";
        if (r.exitCode() != 0) {
            problems.add(run + "guest exit " + r.exitCode());
        }
        if (r.reports().size() != 3 * LINES + 1) {
            problems.add(run + "guest reported " + r.reports().size() + " values, expected " + (3 * LINES + 1));
            return problems;
        }
        for (int line = 0; line < LINES; line++) {
            long[] counts = {
                r.handled(line),
                r.raised(line),
                r.acked(line),
                r.served("line" + line + ".raises"),
                r.served("line" + line + ".acks")
            };
            for (long count : counts) {
                if (count != n) {
                    problems.add(run + "line " + line + " counts " + Arrays.toString(counts) + " are not all " + n);
                    break;
                }
            }
            if (line < r.lineCounters().size() && r.lineCounters().get(line).injections() != n) {
                problems.add(run + "line " + line + " machine injected "
                        + r.lineCounters().get(line).injections());
            }
        }
        if (r.spurious() != 0) {
            problems.add(run + r.spurious() + " spurious");
        }
        return problems;
    }
}
