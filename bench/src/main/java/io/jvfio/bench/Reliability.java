package io.jvfio.bench;

import io.jvfio.devices.ServerProcess;
import io.jvfio.devices.testdevice.TestDevice;
import io.jvfio.devices.testdevice.TestDeviceRegisters;
import io.jvfio.machine.IrqchipSelection;
import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.platform.AssignedMachine;
import io.jvfio.platform.VfioPlatformDevice;
import io.jvfio.platform.config.DeviceSpecException;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfiouser.client.ErrorReplyException;
import io.jvfio.vfiouser.client.ReplyTimeoutException;
import io.jvfio.vfiouser.client.VfioUserDevice;
import io.jvfio.vfiouser.fuzz.DecoderFuzzer;
import io.jvfio.vfiouser.fuzz.FuzzResult;
import io.jvfio.vfiouser.fuzz.ServerFuzzer;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * reliability: the figures of issue 7 from one run, each from the real parts. Faults: each scenario
 * is tried and counts as survived only if jvfio answered it as the issue asks (a killed device process
 * with IRQs in flight, a client gone mid-message, a device that never answers, stray guest accesses,
 * malformed device strings, an overlapping DMA map). Storm: testdev's echo loop on an edge and a level
 * line, on the irqfd and the user-side path; delivered is what the guest handled, raised what the device
 * raised. Leaks: fds and threads left after vfio-user connect/disconnect cycles and machine create/close
 * cycles. Fuzz: the vfio-user decoder and server fuzzers.
 *
 * <pre>Reliability [STORM_PER_LINE_PER_PATH [CONNECT_CYCLES [MACHINE_CYCLES [FUZZ_INPUTS [SERVER_FUZZ_INPUTS]]]]]</pre>
 */
public final class Reliability {
    private static final int BOTH_LINES = 0b11;
    private static final int MODE_ECHO = 3;
    private static final long NOWHERE = 0xE000_0000L;
    private static final Duration BOUND = Duration.ofMinutes(2);

    /** Sets, in minutes, how long one path of the storm may run instead of {@link #stormLimit}'s default. */
    static final String STORM_LIMIT_KNOB = "BENCH_STORM_MINUTES";

    /**
     * A storm's interrupt under nested emulation took 1.4-3.7 ms, on either path, either line or both
     * (bench/README.md): 10 ms is a margin of nearly three over the slowest and over five over what a long
     * storm settled at, and keeps the default storm's two paths (93 min each) within the nested run's 4
     * hours.
     */
    private static final Duration STORM_PER_INTERRUPT = Duration.ofMillis(10);

    /** The guest's boot, the device's realization and the JIT's first minutes, on top of the interrupts. */
    private static final Duration STORM_SETUP = Duration.ofMinutes(10);

    private static final Duration PROGRESS_EVERY = Duration.ofMinutes(1);

    private final Path directory;

    private Reliability(Path directory) {
        this.directory = directory;
    }

    /** A fault scenario: returns normally if jvfio survived it as it should, else throws saying how not. */
    @FunctionalInterface
    interface Scenario {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        long stormPerLine = args.length > 0 ? Long.parseLong(args[0]) : 250_000;
        int connectCycles = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        int machineCycles = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        long fuzzInputs = args.length > 3 ? Long.parseLong(args[3]) : 10_000_000;
        long serverFuzzInputs = args.length > 4 ? Long.parseLong(args[4]) : 5_000;
        Path directory = Files.createTempDirectory("jvfio-reliability");
        Reliability reliability = new Reliability(directory);
        try {
            Map<String, Scenario> faults = new LinkedHashMap<>();
            faults.put("device process killed with IRQs in flight", reliability::killedDevice);
            faults.put("client gone mid-message", reliability::clientGoneMidMessage);
            faults.put("device that never answers", reliability::silentDevice);
            faults.put("guest accesses outside every region", reliability::strayAccesses);
            faults.put("malformed device strings", Reliability::malformedDeviceStrings);
            faults.put("overlapping DMA map", reliability::overlappingDmaMap);
            int survived = 0;
            for (Map.Entry<String, Scenario> fault : faults.entrySet()) {
                try {
                    fault.getValue().run();
                    survived++;
                    System.out.println("fault: " + fault.getKey() + ": survived");
                } catch (Exception | AssertionError e) {
                    System.out.println("fault: " + fault.getKey() + ": NOT survived: " + e);
                }
            }
            long[] storm = reliability.storm(stormPerLine);
            long leaks = reliability.leaks(connectCycles, machineCycles);
            FuzzResult decoder = DecoderFuzzer.run(1, fuzzInputs);
            System.out.println(decoder);
            FuzzResult server = ServerFuzzer.run(1, serverFuzzInputs);
            System.out.println(server);
            FuzzResult fuzz = decoder.plus(server);
            System.out.printf(
                    Locale.ROOT,
                    "reliability: faults=%d/%d storm=%d/%d leaks=%d fuzz=%d crashes=%d%n",
                    survived,
                    faults.size(),
                    storm[0],
                    storm[1],
                    leaks,
                    fuzz.inputs(),
                    fuzz.crashes());
        } finally {
            try (var files = Files.list(directory)) {
                for (Path file : files.toList()) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(directory);
        }
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    /** Runs {@code call} on another thread and fails, rather than hangs, after {@link #BOUND}. */
    private static <T> T within(Callable<T> call, String what) throws Exception {
        return within(call, what, BOUND);
    }

    /**
     * Runs {@code call} on another thread and fails, rather than hangs, after {@code bound}. The thread does
     * not outlive this call if it can help it: once the call is over, or has timed out, the thread is
     * interrupted unless done and waited for up to {@code bound} again (the calls bounded here, vfio-user
     * requests and closes, end by their own reply timeouts); one still running then is named in the failure.
     */
    static <T> T within(Callable<T> call, String what, Duration bound) throws Exception {
        FutureTask<T> task = new FutureTask<>(call);
        Thread thread = Thread.ofPlatform().daemon().name("bounded " + what).start(task);
        boolean waited = false;
        try {
            return task.get(bound.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            task.cancel(true);
            waited = true;
            String left = thread.join(bound) ? "" : "; its thread still runs " + bound + " after being interrupted";
            throw new AssertionError(what + " did not finish within " + bound + left);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : new RuntimeException(e.getCause());
        } finally {
            if (!waited) {
                // Done (a no-op then) or this thread was interrupted while it waited.
                task.cancel(true);
                thread.join(bound);
            }
        }
    }

    private static PlatformDeviceConfig config(Path socket, String properties) {
        return DeviceSpecParser.parse("vfio-platform,socket=" + socket + ",x-reply-timeout-ms=120000" + properties);
    }

    private void killedDevice() throws Exception {
        int fdsBefore = Resources.openFdsOtherThanJars();
        try (ServerProcess child =
                ServedDevices.serve(directory.resolve("killed.sock"), 2, ServedDevices.Jit.AS_TESTS_RUN)) {
            AssignedMachine assembly = AssignedMachine.create(
                    MachineConfig.builder()
                            .guest("testdev")
                            .args(1_000_000_000L, BOTH_LINES, MODE_ECHO)
                            .build(),
                    List.of(config(child.socket(), "")));
            Machine machine = assembly.machine();
            VfioPlatformDevice device = assembly.devices().getFirst();
            try {
                machine.start();
                Thread.sleep(2000);
                check(machine.outcomeIfEnded() == null, "the guest ended before the kill: " + machine.outcomeIfEnded());
                child.kill();
                long registers = device.regions().getFirst().guestBase();
                long status = within(() -> machine.mmio().read(registers + TestDeviceRegisters.STATUS, 4), "a read");
                check(status == 0xFFFF_FFFFL, "a register of the killed device read 0x" + Long.toHexString(status));
                within(
                        () -> {
                            machine.mmio().write(registers + TestDeviceRegisters.ACK, 4, 0b11);
                            return null;
                        },
                        "a write");
                check(device.gone().isPresent(), "the device does not say it is gone");
                Thread.sleep(500);
                check(machine.outcomeIfEnded() == null, "the machine stopped: " + machine.outcomeIfEnded());
            } finally {
                within(
                        () -> {
                            assembly.close();
                            return null;
                        },
                        "closing");
            }
        }
        check(
                Resources.openFdsOtherThanJars() <= fdsBefore,
                "fds left after closing: " + (Resources.openFdsOtherThanJars() - fdsBefore));
    }

    private void clientGoneMidMessage() throws Exception {
        Path socket = directory.resolve("half.sock");
        try (VfioUserServer _ = VfioUserServer.start(socket, TestDevice.create(1, 0))) {
            try (UnixSocket half = UnixSocket.connect(socket)) {
                half.send(new ByteBuffer[] {ByteBuffer.allocateDirect(8)}, new int[0]);
            }
            try (VfioUserDevice client = within(() -> VfioUserDevice.connect(socket), "the next client")) {
                check(client.info().regionCount() == 2, "the next client sees " + client.info());
            }
        }
    }

    private void silentDevice() throws Exception {
        Path socket = directory.resolve("silent.sock");
        try (UnixSocket listener = UnixSocket.listen(socket, 1)) {
            CompletableFuture<UnixSocket> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return listener.accept();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            long start = System.nanoTime();
            try {
                within(
                                () -> VfioUserDevice.connect(
                                        socket,
                                        VfioUserDevice.Options.defaults().withReplyTimeout(Duration.ofSeconds(1))),
                                "connecting to a silent device")
                        .close();
                throw new AssertionError("a device that never answers was accepted");
            } catch (ReplyTimeoutException expected) {
                long millis = (System.nanoTime() - start) / 1_000_000;
                check(millis < 30_000, "the timeout took " + millis + " ms");
            } finally {
                accepted.get(10, TimeUnit.SECONDS).close();
            }
        } finally {
            Files.deleteIfExists(socket);
        }
    }

    private void strayAccesses() throws Exception {
        try (ServerProcess child =
                ServedDevices.serve(directory.resolve("stray.sock"), 1, ServedDevices.Jit.AS_TESTS_RUN)) {
            try (AssignedMachine assembly = AssignedMachine.create(
                    MachineConfig.builder().guest("stray").args(NOWHERE).build(),
                    List.of(config(child.socket(), "")))) {
                Machine machine = assembly.machine();
                VfioPlatformDevice device = assembly.devices().getFirst();
                machine.start();
                int code = machine.awaitExit(BOUND);
                check(code == 0, "the stray guest exited with " + code + ": " + machine.console());
                List<Integer> reports = machine.reports();
                check(
                        reports.size() == 18 && reports.subList(0, 5).equals(List.of(0xFF, 0xFFFF, -1, -1, -1)),
                        "stray reads answered " + reports);
                check(
                        machine.mmio().unclaimedAccesses() == 22,
                        machine.mmio().unclaimedAccesses() + " unclaimed accesses");
                check(device.gone().isEmpty(), "the device was declared gone");
            }
        }
    }

    private static void malformedDeviceStrings() {
        Map<String, String> named = new LinkedHashMap<>();
        named.put("vfio-platform,host=a,bogus=1", "'bogus'");
        named.put("vfio-platform,host=a,x-irqfd=perhaps", "'x-irqfd'");
        named.put("vfio-platform,host=a,mmap-timeout-ms=-5", "'mmap-timeout-ms'");
        named.put("vfio-platform,socket=", "'socket'");
        named.put("vfio-platform,host=a/b", "'host'");
        named.put("vfio-amd-xgbe,host=a,compat=x", "'compat'");
        named.put("vfio-platform,host=a,x-dt-node=", "'x-dt-node'");
        named.put("vfio-pci,host=a", "'vfio-pci'");
        for (Map.Entry<String, String> spec : named.entrySet()) {
            try {
                DeviceSpecParser.parse(spec.getKey());
                throw new AssertionError(spec.getKey() + " was accepted");
            } catch (DeviceSpecException e) {
                check(
                        e.getMessage().contains(spec.getValue())
                                && !e.getMessage().contains("\n"),
                        spec.getKey() + " was refused with \"" + e.getMessage() + "\", which does not name "
                                + spec.getValue());
            }
        }
    }

    private void overlappingDmaMap() throws Exception {
        Path socket = directory.resolve("dma.sock");
        try (VfioUserServer _ = VfioUserServer.start(socket, TestDevice.create(1, 0));
                VfioUserDevice client = VfioUserDevice.connect(socket);
                Fd memory = MemFd.create("guest", 0x4000);
                Mapping guest = Mapping.map(memory, 0, 0x4000, true, "guest")) {
            client.mapDma(new DmaRegion(0x100000, 0x2000, guest, 0, memory, 0, true, true));
            try {
                client.mapDma(new DmaRegion(0x101000, 0x2000, guest, 0x1000, memory, 0x1000, true, true));
                throw new AssertionError("an overlapping DMA map was accepted");
            } catch (ErrorReplyException expected) {
                check(client.info().regionCount() == 2, "the connection did not survive the refusal");
            }
        }
    }

    /** Returns {interrupts the guest handled, interrupts the device raised} over both paths. */
    private long[] storm(long perLine) throws Exception {
        long delivered = 0;
        long raised = 0;
        long interrupts = perLine * Integer.bitCount(BOTH_LINES);
        Duration limit = stormLimit(interrupts, System.getenv(STORM_LIMIT_KNOB));
        IrqchipSelection irqchip = IrqchipSelection.forHost(IrqchipMode.AUTO);
        System.out.println("storm: " + irqchip
                + (irqchip.inKernel()
                        ? ""
                        : "; KVM irqfd needs the in-kernel irqchip: both runs take the user-side path")
                + "; each path may run " + limit.toMinutes() + " min (" + STORM_LIMIT_KNOB + ")");
        try (ServerProcess child =
                ServedDevices.serve(directory.resolve("storm.sock"), 2, ServedDevices.Jit.AS_TESTS_RUN)) {
            for (String path : List.of("", ",x-irqfd=off")) {
                PlatformDeviceConfig config = config(child.socket(), path);
                MachineConfig machineConfig = MachineConfig.builder()
                        .guest("testdev")
                        .args(perLine, BOTH_LINES, MODE_ECHO)
                        .build();
                try (AssignedMachine assembly = AssignedMachine.create(machineConfig, List.of(config))) {
                    Machine machine = assembly.machine();
                    VfioPlatformDevice device = assembly.devices().getFirst();
                    long start = System.nanoTime();
                    machine.start();
                    int code = new StormWait(path.isEmpty() ? "irqfd" : "user-side", interrupts, limit, PROGRESS_EVERY)
                            .await(
                                    machine::awaitExit,
                                    () -> device.regions().stream()
                                            .mapToLong(region -> region.trappedReads() + region.trappedWrites())
                                            .sum(),
                                    System::nanoTime,
                                    start,
                                    System.out::println);
                    List<Integer> reports = machine.reports();
                    if (code != 0 || reports.size() < 7) {
                        // testdev exits 0 only with every line's count handled and no spurious interrupt
                        throw new IOException("storm (" + (path.isEmpty() ? "irqfd" : "user-side")
                                + "): testdev exited with " + code + ", reports " + reports
                                + " (handled, raised, acked per line, then spurious); console:\n"
                                + machine.console());
                    }
                    long handled = Integer.toUnsignedLong(reports.get(0)) + Integer.toUnsignedLong(reports.get(3));
                    long byDevice = Integer.toUnsignedLong(reports.get(1)) + Integer.toUnsignedLong(reports.get(4));
                    delivered += handled;
                    raised += byDevice;
                    System.out.printf(
                            Locale.ROOT,
                            "storm (%s): %d handled, %d raised, %d spurious, exit %d, %.1f s%n",
                            path.isEmpty() ? "irqfd" : "user-side",
                            handled,
                            byDevice,
                            reports.get(6),
                            code,
                            (System.nanoTime() - start) / 1e9);
                }
            }
        }
        return new long[] {delivered, raised};
    }

    /**
     * The longest one path of the storm may run: {@code minutes} (the {@value #STORM_LIMIT_KNOB} knob) if set,
     * else {@link #STORM_SETUP} plus {@link #STORM_PER_INTERRUPT} for each of its {@code interrupts}.
     */
    static Duration stormLimit(long interrupts, String minutes) {
        if (minutes == null || minutes.isBlank()) {
            return STORM_SETUP.plus(STORM_PER_INTERRUPT.multipliedBy(interrupts));
        }
        long parsed;
        try {
            parsed = Long.parseLong(minutes.strip());
        } catch (NumberFormatException e) {
            parsed = 0;
        }
        if (parsed <= 0) {
            throw new IllegalArgumentException(
                    STORM_LIMIT_KNOB + "=" + minutes + ": not a whole number of minutes above 0");
        }
        return Duration.ofMinutes(parsed);
    }

    /** The guest's exit code once it exits within {@code timeout}, as {@link Machine#awaitExit} waits. */
    @FunctionalInterface
    interface GuestExit {
        int await(Duration timeout) throws Exception;
    }

    /**
     * Waiting for one path of the storm, {@code interrupts} in all, for at most {@code limit}, saying every
     * {@code every} how far it got, so that a slow storm and a stuck one look different, and a stuck one
     * ends the run.
     */
    record StormWait(String path, long interrupts, Duration limit, Duration every) {
        /**
         * The guest's exit code; {@code trappedAccesses} are the device's so far (the guest's handler makes
         * two per interrupt), {@code nanoClock} is {@link System#nanoTime} and {@code start} its reading
         * when the storm started. A guest that has not exited by {@code limit} is a {@link TimeoutException}
         * whose one-line message names the path and how far the storm got, caused by {@code exit}'s last.
         */
        int await(
                GuestExit exit,
                LongSupplier trappedAccesses,
                LongSupplier nanoClock,
                long start,
                Consumer<String> progress)
                throws Exception {
            long deadline = start + limit.toNanos();
            long lastSampled = start;
            long lastAccesses = 0;
            while (true) {
                long left = Math.max(0, deadline - nanoClock.getAsLong());
                try {
                    return exit.await(Duration.ofNanos(Math.min(left, every.toNanos())));
                } catch (TimeoutException e) {
                    long sampled = nanoClock.getAsLong();
                    long accesses = trappedAccesses.getAsLong();
                    if (sampled - deadline >= 0) {
                        // The machine's own timeout, with where its vCPU threads are, goes along as the cause.
                        TimeoutException stuck = new TimeoutException(String.format(
                                Locale.ROOT,
                                "storm (%s): the guest did not exit within %d min, the limit for %d interrupts"
                                        + " (%s): about %d handled, %d of them in the last %.0f s",
                                path,
                                limit.toMinutes(),
                                interrupts,
                                STORM_LIMIT_KNOB,
                                accesses / 2,
                                (accesses - lastAccesses) / 2,
                                (sampled - lastSampled) / 1e9));
                        stuck.initCause(e);
                        throw stuck;
                    }
                    progress.accept(String.format(
                            Locale.ROOT,
                            "storm (%s): %.0f s, about %d interrupts so far",
                            path,
                            (sampled - start) / 1e9,
                            accesses / 2));
                    lastSampled = sampled;
                    lastAccesses = accesses;
                }
            }
        }
    }

    /** fds and threads left after the cycles, over what there were before them. */
    private long leaks(int connectCycles, int machineCycles) throws Exception {
        Path socket = directory.resolve("cycles.sock");
        List<Long> left = new ArrayList<>();
        try (VfioUserServer _ = VfioUserServer.start(socket, TestDevice.create(1, 0))) {
            try (VfioUserDevice warm = VfioUserDevice.connect(socket)) {
                warm.info();
            }
            long before = Resources.openFdsOtherThanJars() + Resources.threads();
            for (int i = 0; i < connectCycles; i++) {
                try (VfioUserDevice client = VfioUserDevice.connect(socket)) {
                    client.read(0, TestDeviceRegisters.ID, 4);
                }
            }
            left.add(settle(before));
        }
        try (Machine warm =
                Machine.create(MachineConfig.builder().guest("hello").build())) {
            warm.irqchip();
        }
        long before = Resources.openFdsOtherThanJars() + Resources.threads();
        for (int i = 0; i < machineCycles; i++) {
            try (Machine machine =
                    Machine.create(MachineConfig.builder().guest("hello").build())) {
                machine.start();
                machine.awaitExit(BOUND);
            }
        }
        left.add(settle(before));
        System.out.printf(
                Locale.ROOT,
                "leaks: %d after %d vfio-user connections, %d after %d machines%n",
                left.get(0),
                connectCycles,
                left.get(1),
                machineCycles);
        return left.get(0) + left.get(1);
    }

    /** Waits up to 10 s for threads that are ending to end; returns what is left over {@code before}. */
    private static long settle(long before) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long now = Resources.openFdsOtherThanJars() + Resources.threads();
        while (now > before && System.nanoTime() < deadline) {
            Thread.sleep(20);
            now = Resources.openFdsOtherThanJars() + Resources.threads();
        }
        return Math.max(0, now - before);
    }
}
