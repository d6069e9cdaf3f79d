package io.jvfio.bench;

import io.jvfio.devices.ServerProcess;
import io.jvfio.devices.testdevice.TestDeviceRegisters;
import io.jvfio.machine.IrqchipSelection;
import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.irqchip.ApicCounters;
import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.platform.AssignedMachine;
import io.jvfio.platform.IrqPath;
import io.jvfio.platform.VfioPlatformDevice;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfiouser.ReplyPolling;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * irq-irqfd and irq-eventfd: interrupts end to end. The test device runs in a child JVM behind
 * vfio-user ({@link ServerProcess}, as {@code jvfio serve} runs it) and is assigned to a machine running the
 * {@code testdev} guest in echo mode: the device fires line 0 (edge), the guest's handler reads STATUS and
 * writes ACK (both trapped and forwarded over vfio-user), and the ACK makes the device fire again, N
 * times. On the irqfd path KVM injects from the trigger eventfd; on the eventfd path ({@code
 * x-irqfd=off}) jvfio's event loop runs the seed's state machine and injects with KVM_IRQ_LINE, with EOI
 * at the guest's ACK (precise EOI, which the test device declares).
 *
 * <p>The C baseline {@code bench/c/irq_loop.c} runs the same guest image in the same VM and does the same
 * kernel work per interrupt (two MMIO exits, two request/replies over an AF_UNIX socket to a second
 * process that writes an eventfd, the injection by irqfd or KVM_IRQ_LINE). Both sides time from loading
 * the image to the guest's exit; device start and VM creation are outside the timing. Warm-up and
 * interleaved rounds as {@link MmioExit}. Also prints trapped exits per interrupt on jvfio's side
 * (every guest access to the device's regions during a run, divided by the interrupts), for precise
 * EOI and, on the eventfd path, for the seed's EOI-on-first-access heuristic too. A third side in every
 * round, {@link RawIrqLoop} against {@link RawDeviceMain} in a child JVM, is a diagnostic: the C
 * program's loop in Java at both ends, without jvfio's layers.
 *
 * <pre>IrqLoop IRQ_LOOP_BINARY irqfd|eventfd [ROUNDS [INTERRUPTS [WARMUP_INTERRUPTS [JVFIO_WARMUP_ROUNDS]]]]</pre>
 */
public final class IrqLoop {
    static final int LINE_MASK = 0b1;
    static final int MODE_ECHO = 3;
    /** testdev's flag: wait for interrupts running (interrupts on around nops), not halted. */
    static final int FLAG_BUSY_WAIT = 8;
    /** Rounds and interrupts of the running-guest diagnostic: each interrupt may cost a millisecond in C. */
    static final int RUNNING_ROUNDS = 3;

    static final long RUNNING_INTERRUPTS = 300;
    /** How long a round may take, java raw's too, and how often its wait looks whether the device is still there. */
    static final Duration ROUND_LIMIT = Duration.ofMinutes(3);

    private static final Duration DEVICE_CHECK_INTERVAL = Duration.ofSeconds(1);
    private static final Duration VCPU_STATE_WAIT = Duration.ofSeconds(1);
    /**
     * {@code BENCH_COALESCED_EOI=on}: jvfio's machine with {@code x-coalesced-eoi}, the guest's EOIs queued
     * instead of exiting, to compare with the default (off) in one sitting.
     */
    static final boolean COALESCED_EOI = "on".equals(System.getenv("BENCH_COALESCED_EOI"));
    /**
     * {@code BENCH_KERNEL_IRQCHIP=on|off|auto} (default auto): jvfio's machine's {@code kernel-irqchip}.
     * {@code off} sets jvfio's own irqchip against C's in-kernel one on a KVM where auto would pick the
     * in-kernel one, such as the nested guest's.
     */
    static final IrqchipMode KERNEL_IRQCHIP =
            IrqchipMode.parse(System.getenv().getOrDefault("BENCH_KERNEL_IRQCHIP", "auto"));

    private final boolean irqfd;
    private final Path socket;

    private IrqLoop(boolean irqfd, Path socket) {
        this.irqfd = irqfd;
        this.socket = socket;
    }

    /**
     * One jvfio run: ns per interrupt, trapped accesses per interrupt, and vCPU 0's counts on jvfio's own
     * irqchip (empty on KVM's).
     */
    record Figures(
            double nsPerInterrupt,
            double exitsPerInterrupt,
            Optional<ApicCounters> irqchip,
            Optional<ReplyPolling.Stats> replyPolling) {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !(args[1].equals("irqfd") || args[1].equals("eventfd"))) {
            System.err.println("usage: IrqLoop IRQ_LOOP_BINARY irqfd|eventfd [ROUNDS [INTERRUPTS [WARMUP_INTERRUPTS"
                    + " [JVFIO_WARMUP_ROUNDS]]]]");
            System.exit(2);
        }
        String baseline = args[0];
        String path = args[1];
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        long interrupts = args.length > 3 ? Long.parseLong(args[3]) : 2_000;
        long warmupInterrupts = args.length > 4 ? Long.parseLong(args[4]) : interrupts;
        int jvfioWarmupRounds = args.length > 5 ? Integer.parseInt(args[5]) : 3;

        byte[] image = MachineConfig.guestResource("testdev");
        Path directory = Files.createTempDirectory("jvfio-bench-irq");
        Path imageFile = directory.resolve("testdev.elf");
        Path rawSocket = directory.resolve("raw-device.sock");
        try {
            Files.write(imageFile, image);
        } catch (IOException e) {
            Files.deleteIfExists(imageFile);
            Files.deleteIfExists(directory);
            throw e;
        }
        try (ServerProcess rawServer = ServedDevices.start(RawDeviceMain.class, rawSocket, ServedDevices.Jit.FULL);
                ServerProcess server =
                        ServedDevices.serve(directory.resolve("test-device.sock"), 1, ServedDevices.Jit.FULL)) {
            IrqLoop bench = new IrqLoop(path.equals("irqfd"), server.socket());
            IrqchipSelection irqchip = IrqchipSelection.forHost(KERNEL_IRQCHIP);
            String irqchipNote = irqchip.inKernel()
                    ? "both on KVM's in-kernel irqchip"
                    : "jvfio on its own irqchip (" + irqchip + ", x-coalesced-eoi=" + (COALESCED_EOI ? "on" : "off")
                            + "), C on KVM's in-kernel one, as a C VMM gets it";
            System.out.println("irqchip: " + irqchipNote
                    + (irqchip.inKernel() || !bench.irqfd
                            ? ""
                            : "; KVM irqfd needs the in-kernel irqchip, so jvfio's line takes the user-side path"));
            System.out.println("device servers: child JVMs with " + ServedDevices.tierOption(ServedDevices.Jit.FULL)
                    + ", in the nested guest too, where the tests' run C1 alone");
            RawIrqLoop raw = new RawIrqLoop(rawSocket, bench.irqfd);
            Figures[] last = new Figures[1];
            Interleaved.Result result = Interleaved.compare(
                    "interrupt",
                    rounds,
                    jvfioWarmupRounds,
                    interrupts,
                    warmupInterrupts,
                    n -> Baseline.run(List.of(baseline, imageFile.toString(), Long.toString(n), path)),
                    n -> {
                        last[0] = bench.round(n, true);
                        return last[0].nsPerInterrupt();
                    },
                    n -> raw.run(image, n),
                    server.pid(),
                    rawServer.pid());
            Rounds cRounds = result.c();
            Rounds jRounds = result.jvfio();
            System.out.printf(
                    Locale.ROOT,
                    "trapped exits per interrupt (jvfio, %s path, precise EOI): %.2f%n",
                    path,
                    last[0].exitsPerInterrupt());
            last[0].irqchip()
                    .ifPresent(lapic -> System.out.printf(
                            Locale.ROOT,
                            "jvfio's irqchip per interrupt (last round; each EOI exit and hlt is an exit to user space,"
                                    + " which C's in-kernel irqchip keeps in the kernel): %.2f EOI exits (%.2f EOIs queued"
                                    + " in the coalesced MMIO ring instead), %.2f hlts (%.2f waited for the interrupt), %.2f"
                                    + " kicks, %.2f interrupt-window requests (%.2f runs that also looked at the window"
                                    + " every so often); %.3f drains of the ring by its timer (%.3f found an EOI"
                                    + " queued)%n",
                            (double) (lapic.endsOfInterrupt() - lapic.queuedEndsOfInterrupt()) / interrupts,
                            (double) lapic.queuedEndsOfInterrupt() / interrupts,
                            (double) lapic.halts() / interrupts,
                            (double) lapic.haltWaits() / interrupts,
                            (double) lapic.kicks() / interrupts,
                            (double) lapic.windowRequests() / interrupts,
                            (double) lapic.windowLookedRuns() / interrupts,
                            (double) lapic.drainTicks() / interrupts,
                            (double) lapic.drainTickFinds() / interrupts));
            last[0].replyPolling()
                    .ifPresent(polling -> System.out.printf(
                            Locale.ROOT,
                            "region accesses' replies (jvfio, last round): %.2f polled, %.2f blocked per interrupt;"
                                    + " window %d us of at most %d%n",
                            (double) polling.polled() / interrupts,
                            (double) polling.blocked() / interrupts,
                            polling.window().toNanos() / 1000,
                            polling.max().toNanos() / 1000));
            withoutReplyPolling(bench, interrupts);
            if (!bench.irqfd) {
                Figures seed = bench.round(interrupts, false);
                System.out.printf(
                        Locale.ROOT,
                        "trapped exits per interrupt (jvfio, eventfd path, the seed's EOI on first access):"
                                + " %.2f%n",
                        seed.exitsPerInterrupt());
            }
            double running = runningGuest(bench, baseline, imageFile, path);
            System.out.println(resultLine(path, cRounds, jRounds, irqchip.effective(), running));
        } finally {
            Files.deleteIfExists(imageFile);
            Files.deleteIfExists(directory);
        }
    }

    /**
     * A diagnostic: jvfio as it is against jvfio with {@code x-reply-poll-max-us=0}, whose region
     * accesses block for their replies at once, in interleaved rounds. Medians of a few.
     */
    private static void withoutReplyPolling(IrqLoop bench, long interrupts) throws Exception {
        Rounds polling = new Rounds();
        Rounds blocking = new Rounds();
        for (int round = 0; round < RUNNING_ROUNDS; round++) {
            polling.add(bench.round(interrupts, true).nsPerInterrupt());
            blocking.add(
                    bench.round(interrupts, true, 0, ",x-reply-poll-max-us=0").nsPerInterrupt());
        }
        System.out.printf(
                Locale.ROOT,
                "reply polling (diagnostic): medians of %d rounds of %d interrupts: jvfio %.1f us, with"
                        + " x-reply-poll-max-us=0 %.1f us per interrupt, ratio %.2f%n",
                RUNNING_ROUNDS,
                interrupts,
                polling.median() / 1e3,
                blocking.median() / 1e3,
                polling.median() / blocking.median());
    }

    /**
     * A diagnostic: the same loop with the guest waiting running instead of halted, which is where a
     * software KVM's in-kernel injection waits for the emulator's next batch of instructions and jvfio's
     * own irqchip kicks the vCPU out of KVM_RUN. Medians of a few interleaved rounds.
     */
    private static double runningGuest(IrqLoop bench, String baseline, Path imageFile, String path) throws Exception {
        List<String> c = List.of(baseline, imageFile.toString(), Long.toString(RUNNING_INTERRUPTS), path, "busy");
        Rounds cRounds = new Rounds();
        Rounds jRounds = new Rounds();
        Figures last = null;
        for (int round = 0; round < RUNNING_ROUNDS; round++) {
            cRounds.add(Baseline.run(c));
            last = bench.round(RUNNING_INTERRUPTS, true, FLAG_BUSY_WAIT, "");
            jRounds.add(last.nsPerInterrupt());
        }
        double cMedian = cRounds.median();
        double jMedian = jRounds.median();
        System.out.printf(
                Locale.ROOT,
                "running guest (testdev waits with interrupts on, no hlt; diagnostic): medians of %d rounds of"
                        + " %d interrupts: C %.1f us, jvfio %.1f us per interrupt, ratio %.2f%n",
                RUNNING_ROUNDS,
                RUNNING_INTERRUPTS,
                cMedian / 1e3,
                jMedian / 1e3,
                jMedian / cMedian);
        last.irqchip()
                .ifPresent(lapic -> System.out.printf(
                        Locale.ROOT,
                        "running guest, jvfio's irqchip per interrupt (last round): %.2f interrupt-window requests,"
                                + " %.2f runs that also looked at the window every so often, %.2f kicks%n",
                        (double) lapic.windowRequests() / RUNNING_INTERRUPTS,
                        (double) lapic.windowLookedRuns() / RUNNING_INTERRUPTS,
                        (double) lapic.kicks() / RUNNING_INTERRUPTS));
        return jMedian / cMedian;
    }

    private Figures round(long interrupts, boolean preciseEoi) throws Exception {
        return round(interrupts, preciseEoi, 0, "");
    }

    /**
     * The guest's exit code, or an error as soon as the device is gone: a guest whose device server died
     * waits for interrupts that never come, and the round would otherwise last its whole time limit.
     */
    private static int awaitExit(Machine machine, VfioPlatformDevice device) throws Exception {
        long deadline = System.nanoTime() + ROUND_LIMIT.toNanos();
        while (true) {
            try {
                return machine.awaitExit(DEVICE_CHECK_INTERVAL);
            } catch (TimeoutException e) {
                Optional<String> gone = device.gone();
                if (gone.isPresent()) {
                    throw new IOException("the device is gone in the middle of a round: " + gone.get());
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new TimeoutException("the guest did not exit within " + ROUND_LIMIT.toMinutes() + " minutes; "
                            + whereTheChainStopped(machine, device));
                }
            }
        }
    }

    /**
     * What a stuck echo loop leaves to read: the device's raise and ACK counts and STATUS, line 0's state
     * and counts on the user-side path, its IOAPIC entry, and vCPU 0's place and LAPIC vectors (an
     * interrupt requested or in service that the guest never ran), so the link of the chain that broke
     * shows.
     */
    private static String whereTheChainStopped(Machine machine, VfioPlatformDevice device) throws InterruptedException {
        StringBuilder where = new StringBuilder();
        try {
            VfioDevice backend = device.backend();
            where.append("device: line 0 raised ")
                    .append(backend.read(0, TestDeviceRegisters.line(0, TestDeviceRegisters.RAISE_COUNT), 4))
                    .append(", acked ")
                    .append(backend.read(0, TestDeviceRegisters.line(0, TestDeviceRegisters.ACK_COUNT), 4))
                    .append(", STATUS ")
                    .append(backend.read(0, TestDeviceRegisters.STATUS, 4));
        } catch (IOException | RuntimeException e) {
            where.append("device unreadable: ").append(e.getMessage());
        }
        device.irqController()
                .ifPresent(controller -> where.append("; line 0 ")
                        .append(controller.state(0))
                        .append(' ')
                        .append(controller.counters(0)));
        try {
            where.append("; IOAPIC entry ")
                    .append(Long.toHexString(machine.ioapicRedirectionEntry(
                            device.irqs().getFirst().gsi())));
        } catch (IOException e) {
            where.append("; IOAPIC unreadable: ").append(e.getMessage());
        }
        where.append("; vCPU 0: ").append(machine.vcpuState(0, VCPU_STATE_WAIT));
        return where.toString();
    }

    /** One run of the guest on a fresh machine with the served device assigned to it. */
    private Figures round(long interrupts, boolean preciseEoi, long flags, String properties) throws Exception {
        PlatformDeviceConfig config = DeviceSpecParser.parse("vfio-platform,socket=" + socket
                + (irqfd ? "" : ",x-irqfd=off") + (preciseEoi ? "" : ",x-precise-eoi=off") + properties);
        MachineConfig machineConfig = MachineConfig.builder()
                .guest("testdev")
                .args(interrupts, LINE_MASK, MODE_ECHO, 0, flags)
                .coalescedEoi(COALESCED_EOI)
                .irqchip(KERNEL_IRQCHIP)
                .build();
        try (AssignedMachine assembly = AssignedMachine.create(machineConfig, List.of(config))) {
            Machine machine = assembly.machine();
            VfioPlatformDevice device = assembly.devices().getFirst();
            IrqPath expected = irqfd && machine.irqchip().inKernel() ? IrqPath.IRQFD : IrqPath.USER_SIDE;
            if (device.irqs().getFirst().path() != expected) {
                throw new IOException(
                        "line 0 is on the " + device.irqs().getFirst().path() + " path, not " + expected);
            }
            long start = System.nanoTime();
            machine.start();
            int code = awaitExit(machine, device);
            long elapsed = System.nanoTime() - start;
            List<Integer> reports = machine.reports();
            if (code != 0 || reports.isEmpty() || reports.getFirst() != interrupts) {
                throw new IOException(
                        "testdev exited with " + code + ", reports " + reports + "; console:\n" + machine.console());
            }
            long trapped = device.regions().stream()
                    .mapToLong(r -> r.trappedReads() + r.trappedWrites())
                    .sum();
            return new Figures(
                    (double) elapsed / interrupts,
                    (double) trapped / interrupts,
                    machine.irqchipCounters().map(c -> c.localApics().getFirst()),
                    device.backend() instanceof VfioUserDevice client
                            ? Optional.of(client.replyPolling())
                            : Optional.empty());
        }
    }

    /**
     * The last line: jvfio's median over C's, both medians in us per interrupt, jvfio's irqchip, and the
     * running-guest diagnostic's ratio.
     */
    static String resultLine(String path, Rounds c, Rounds jvfio, String irqchip, double running) {
        return String.format(
                Locale.ROOT,
                "irq-%s: ratio=%.2f (jvfio %.1f us on kernel-irqchip=%s, C %.1f us on the in-kernel irqchip;"
                        + " guest waiting running: %.2f)",
                path,
                jvfio.median() / c.median(),
                jvfio.median() / 1e3,
                irqchip,
                c.median() / 1e3,
                running);
    }
}
