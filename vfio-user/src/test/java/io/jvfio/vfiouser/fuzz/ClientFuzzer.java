package io.jvfio.vfiouser.fuzz;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.DeviceGoneException;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqAction;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.RegionIoEventFd;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfio.VfioException;
import io.jvfio.vfiouser.client.VfioUserDevice;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.PostedWrite;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Fuzzes jvfio's vfio-user client against a hostile server. Each case is a fresh client, opened with
 * {@link VfioUserDevice#open} on one end of a real socket pair whose other end is a
 * {@link MutatingProxy}: it forwards the client's requests to a real {@link VfioUserServer} serving
 * {@link FuzzDevice} (plus a posted write and a register page, so that DEVICE_GET_REGION_IO_FDS and
 * jvfio's read-only mmap capability carry something), and the server's real replies back, except for
 * the ones the case faults: one message, chosen by its place in a whole session, with each
 * {@link MutatingProxy.Fault} in turn, or in a fifth of the cases ("storms") every message with some
 * probability and a random fault. The fault's own randomness comes from the case's seed, which comes
 * from the run's: a defect's line names the plan, and {@link #replay} runs that case again. The client
 * is then driven as jvfio's platform code drives it: connect, DEVICE_GET_INFO, the device-tree
 * identity, every region's info, mmap and ioeventfds, every IRQ index's info and SET_IRQS, register
 * and bulk reads and writes, DMA_MAP (with a memfd, and without one), a device DMA through each,
 * DMA_UNMAP, reset, close; cases alternate between twin-socket mode (whose socket the proxy faults too)
 * and the server's DMA requests on the main socket, and between region accesses that poll for their
 * replies and ones that do not.
 *
 * <p>What must hold in every case: each call returns or fails with a {@link VfioException} (the
 * client's documented types: it, {@code DeviceGoneException}, {@code ReplyTimeoutException},
 * {@code ErrorReplyException}) whose message names the device and says something; no other throwable,
 * no call slower than {@link #STEP_BOUND_TIMEOUTS} reply timeouts, ioeventfds that are eventfds; and
 * after close no client thread alive, the process's fds and memfd mappings back to where they were.
 * Also: a reader thread of the client's (the idle reader, the twin socket's) that ended means the device
 * is gone. The first case of a run faults nothing and every call must succeed, so a fuzzer that no longer
 * reaches the client's code fails too.
 */
public final class ClientFuzzer {
    /** The reply timeout of the fuzzed clients: short, so that a dropped reply costs little. */
    static final Duration REPLY_TIMEOUT = Duration.ofMillis(100);
    /**
     * A call may take this many reply timeouts, and half a second more: a timeout is found within 1.5, a
     * partial message within 1, and a loaded machine must not make a slow call look like a hang.
     */
    static final int STEP_BOUND_TIMEOUTS = 20;
    /** How long the fuzzed cases' server waits for the client's answer to a DMA request. */
    static final Duration DMA_TIMEOUT = Duration.ofMillis(40);

    private static final Duration CASE_BOUND = Duration.ofSeconds(20);
    private static final long DMA_IOVA = 0x100000;
    private static final long DMA_SIZE = 0x4000;
    private static final long MESSAGE_DMA_IOVA = 0x200000;
    private static final double STORM_SHARE = 0.2;

    /** What one case found wrong, if anything, and what it did. */
    record CaseResult(int index, MutatingProxy.Plan plan, List<String> applied, List<String> defects, boolean opened) {}

    /** A run: the cases' findings, and counts of what was applied and how calls ended. */
    record Report(
            long seed,
            int cases,
            int opened,
            List<String> defects,
            Map<String, Integer> faults,
            Map<String, Integer> outcomes,
            List<String> baselineCommands,
            long nanos) {
        FuzzResult asResult() {
            return new FuzzResult(
                    "client",
                    seed,
                    cases,
                    opened,
                    defects.size(),
                    null,
                    defects.isEmpty() ? null : defects.getFirst(),
                    nanos);
        }

        @Override
        public String toString() {
            return asResult() + "\n  faults applied: " + faults + "\n  call outcomes: " + outcomes
                    + "\n  server messages of a whole session: " + baselineCommands.size() + " "
                    + baselineCommands
                    + (defects.isEmpty() ? "" : "\n  defects:\n    " + String.join("\n    ", defects));
        }
    }

    private final long seed;
    private final Path serverPath;
    private final Path baselinePath;
    private final Path scratchFile;
    private final VfioUserServer server;
    private final VfioUserServer baselineServer;
    private final List<byte[]> corpus;
    private final Map<String, Integer> faults = new TreeMap<>();
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private final ConcurrentLinkedQueue<String> escaped = new ConcurrentLinkedQueue<>();

    private ClientFuzzer(long seed, Path directory) throws IOException {
        this.seed = seed;
        this.serverPath = directory.resolve("real.sock");
        this.scratchFile = Files.writeString(directory.resolve("regular-file"), "not what you expected");
        this.baselinePath = directory.resolve("baseline.sock");
        // The fuzzed cases' server gives up on a DMA request sooner than the client on a reply: a DMA the
        // client no longer answers then fails the request it serves without making the device gone, so a
        // reader that died shows. The baseline's server keeps the default, so that a slow moment cannot fail it.
        this.server = VfioUserServer.start(
                serverPath,
                new ServedDevice(),
                VfioUserServer.Options.defaults().withDmaTimeout(DMA_TIMEOUT));
        this.baselineServer = VfioUserServer.start(baselinePath, new ServedDevice());
        this.corpus =
                GoldenMessages.all().stream().map(GoldenMessages.Golden::bytes).toList();
    }

    /** Runs {@code cases} cases from {@code seed} (case 0 faults nothing) and reports what they found. */
    public static Report run(long seed, int cases) throws Exception {
        Logger logger = Logger.getLogger("io.jvfio.vfiouser");
        Level oldLevel = logger.getLevel();
        logger.setLevel(Level.OFF);
        Thread.UncaughtExceptionHandler oldHandler = Thread.getDefaultUncaughtExceptionHandler();
        Path directory = Files.createTempDirectory("jvfio-client-fuzz");
        ClientFuzzer fuzzer = new ClientFuzzer(seed, directory);
        Thread.setDefaultUncaughtExceptionHandler(
                (thread, error) -> fuzzer.escaped.add(thread.getName() + ": " + error));
        try {
            return fuzzer.fuzz(cases);
        } finally {
            fuzzer.close();
            Files.deleteIfExists(directory);
            Thread.setDefaultUncaughtExceptionHandler(oldHandler);
            logger.setLevel(oldLevel);
        }
    }

    private void close() throws IOException {
        server.close();
        baselineServer.close();
        Files.deleteIfExists(scratchFile);
        Files.deleteIfExists(serverPath);
        Files.deleteIfExists(baselinePath);
    }

    /** Replays one case of a run (its plan is in the defect's line) against a fresh server, after a warm-up case. */
    static CaseResult replay(int index, MutatingProxy.Plan plan) throws Exception {
        Path directory = Files.createTempDirectory("jvfio-client-fuzz");
        ClientFuzzer fuzzer = new ClientFuzzer(plan.seed(), directory);
        try {
            fuzzer.runCase(fuzzer.serverPath, -1, MutatingProxy.Plan.none(), Duration.ofSeconds(5), false, null);
            return fuzzer.runCase(fuzzer.serverPath, index, plan, REPLY_TIMEOUT, false, null);
        } finally {
            fuzzer.close();
            Files.deleteIfExists(directory);
        }
    }

    private Report fuzz(int cases) throws Exception {
        long start = System.nanoTime();
        List<String> defects = new ArrayList<>();
        // a warm-up case on each server first: it loads the classes and starts what a server keeps for good (the
        // event loop it starts at a client's first unmask eventfd), so only its calls are checked, not its fds
        CaseResult warmUp = runCase(baselinePath, -1, MutatingProxy.Plan.none(), Duration.ofSeconds(5), true, null);
        warmUp.defects().stream()
                .filter(defect -> !defect.startsWith("fds leaked"))
                .forEach(defects::add);
        runCase(serverPath, -2, MutatingProxy.Plan.none(), Duration.ofSeconds(5), false, null);
        // the baseline: nothing faulted, everything must work
        List<String> commands = new ArrayList<>();
        CaseResult counted = runCase(baselinePath, 0, MutatingProxy.Plan.none(), Duration.ofSeconds(5), true, commands);
        defects.addAll(counted.defects());
        int serverMessages = Math.max(1, commands.size());
        int opened = 0;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 1; i < cases; i++) {
            long caseSeed = random.nextLong();
            MutatingProxy.Plan plan = random.nextDouble() < STORM_SHARE
                    ? new MutatingProxy.Plan(caseSeed, -1, null, 0.05 + random.nextDouble() * 0.2)
                    : new MutatingProxy.Plan(
                            caseSeed,
                            random.nextInt(serverMessages),
                            MutatingProxy.Fault.ALL[i % MutatingProxy.Fault.ALL.length],
                            0);
            CaseResult result = runCase(serverPath, i, plan, REPLY_TIMEOUT, false, null);
            if (result.opened()) {
                opened++;
            }
            for (String fault : result.applied()) {
                faults.merge(fault.substring(fault.lastIndexOf(' ') + 1), 1, Integer::sum);
            }
            for (String defect : result.defects()) {
                defects.add(
                        "seed " + seed + " case " + i + " " + plan + " applied " + result.applied() + ": " + defect);
            }
        }
        return new Report(seed, cases, opened + 1, defects, faults, outcomes, commands, System.nanoTime() - start);
    }

    /**
     * One client against the proxy with {@code plan}. With {@code mustSucceed} every call must return;
     * {@code commands} (if not null) gets the server's messages of the session in order.
     */
    private CaseResult runCase(
            Path serverPath,
            int index,
            MutatingProxy.Plan plan,
            Duration replyTimeout,
            boolean mustSucceed,
            List<String> commands)
            throws Exception {
        String name = "fuzz-case-" + index;
        int fdsBefore = Resources.openFdsOtherThanJars();
        int memfdsBefore = Resources.mappings("memfd:");
        List<String> defects = new ArrayList<>();
        UnixSocket[] pair = UnixSocket.pair();
        MutatingProxy proxy;
        try {
            proxy = new MutatingProxy(pair[0], serverPath, plan, corpus, scratchFile);
        } catch (IOException e) {
            pair[0].close();
            pair[1].close();
            throw e;
        }
        // twin socket or not every other case; replies polled for (the default) or not every fourth
        Duration replyPollMax =
                Math.floorMod(index, 4) < 2 ? VfioUserDevice.Options.DEFAULT_REPLY_POLL_MAX : Duration.ZERO;
        Driver driver = new Driver(name, pair[1], replyTimeout, index % 2 == 0, replyPollMax, mustSucceed);
        Thread thread = Thread.ofPlatform().name("client fuzzer " + name).start(driver);
        thread.join(CASE_BOUND.toMillis());
        if (thread.isAlive()) {
            defects.add("the case did not end within " + CASE_BOUND + "; the client's thread is at "
                    + Arrays.toString(thread.getStackTrace()));
            proxy.close();
            thread.join(CASE_BOUND.toMillis());
        }
        defects.addAll(driver.defects);
        proxy.close();
        if (commands != null) {
            commands.addAll(proxy.serverCommands());
        }
        List<String> alive = clientThreads(name, Duration.ofSeconds(2));
        if (!alive.isEmpty()) {
            defects.add("client threads alive after close: " + alive);
        }
        // the real server lets go of the connection's fds (the client's eventfds, its DMA memfd) once it sees the end
        int fdsAfter = awaitAtMost(Resources::openFdsOtherThanJars, fdsBefore, Duration.ofSeconds(3));
        if (fdsAfter > fdsBefore) {
            defects.add(
                    "fds leaked: " + fdsAfter + " open after the case, " + fdsBefore + " before " + openFdTargets());
        }
        int memfdsAfter = awaitAtMost(() -> Resources.mappings("memfd:"), memfdsBefore, Duration.ofSeconds(3));
        if (memfdsAfter > memfdsBefore) {
            defects.add("memfd mappings leaked: " + memfdsAfter + " after the case, " + memfdsBefore + " before");
        }
        for (String error; (error = escaped.poll()) != null; ) {
            defects.add("a throwable escaped a thread: " + error);
        }
        synchronized (outcomes) {
            driver.outcomes.forEach((outcome, count) -> outcomes.merge(outcome, count, Integer::sum));
        }
        return new CaseResult(index, plan, proxy.applied(), defects, driver.opened);
    }

    private static List<String> clientThreads(String name, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<String> alive = Thread.getAllStackTraces().keySet().stream()
                    .map(Thread::getName)
                    .filter(thread -> thread.equals("vfio-user client " + name)
                            || thread.startsWith("vfio-user client " + name + " "))
                    .toList();
            if (alive.isEmpty() || System.nanoTime() > deadline) {
                return alive;
            }
            Thread.sleep(10);
        }
    }

    private interface Count {
        int get();
    }

    private static int awaitAtMost(Count count, int limit, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        int now = count.get();
        while (now > limit && System.nanoTime() < deadline) {
            Thread.sleep(10);
            now = count.get();
        }
        return now;
    }

    private static String openFdTargets() {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            Map<String, Integer> kinds = new TreeMap<>();
            fds.forEach(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.endsWith(".jar")) {
                        return;
                    }
                    kinds.merge(target.replaceAll("[0-9]+", "N"), 1, Integer::sum);
                } catch (IOException e) {
                    // closed meanwhile
                }
            });
            return kinds.toString();
        } catch (IOException e) {
            return "";
        }
    }

    /** Drives one client the way jvfio's platform code does, and checks how each call ends. */
    private static final class Driver implements Runnable {
        private final String name;
        private final UnixSocket socket;
        private final Duration replyTimeout;
        private final boolean twinSocket;
        private final Duration replyPollMax;
        private final boolean mustSucceed;
        final List<String> defects = new ArrayList<>();
        final Map<String, Integer> outcomes = new TreeMap<>();
        volatile boolean opened;

        Driver(
                String name,
                UnixSocket socket,
                Duration replyTimeout,
                boolean twinSocket,
                Duration replyPollMax,
                boolean mustSucceed) {
            this.name = name;
            this.socket = socket;
            this.replyTimeout = replyTimeout;
            this.twinSocket = twinSocket;
            this.replyPollMax = replyPollMax;
            this.mustSucceed = mustSucceed;
        }

        private interface Step<T> {
            T run() throws Exception;
        }

        /** Runs a call and checks how it ended; returns its value, or null when it failed. */
        private <T> T step(String what, Step<T> call) {
            long start = System.nanoTime();
            try {
                T value = call.run();
                outcomes.merge("ok", 1, Integer::sum);
                return value;
            } catch (Throwable e) {
                outcomes.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                String prefix = "vfio " + name + ": ";
                if (!(e instanceof VfioException)) {
                    defects.add(what + " threw " + e + " at " + where(e));
                } else if (e.getMessage() == null
                        || !e.getMessage().startsWith(prefix)
                        || e.getMessage().length() < prefix.length() + 8) {
                    defects.add(what + " failed with a message that names no device or says nothing: " + e);
                } else if (mustSucceed) {
                    defects.add(what + " failed without a fault: " + e);
                }
                return null;
            } finally {
                long millis = (System.nanoTime() - start) / 1_000_000;
                if (millis > STEP_BOUND_TIMEOUTS * replyTimeout.toMillis() + 500) {
                    defects.add(what + " took " + millis + " ms, reply timeout " + replyTimeout.toMillis() + " ms");
                }
            }
        }

        private static String where(Throwable e) {
            StackTraceElement[] trace = e.getStackTrace();
            return Arrays.toString(Arrays.copyOf(trace, Math.min(6, trace.length)));
        }

        @Override
        public void run() {
            VfioUserDevice.Options options = VfioUserDevice.Options.defaults()
                    .withReplyTimeout(replyTimeout)
                    .withReplyPollMax(replyPollMax)
                    .withTwinSocket(twinSocket);
            VfioUserDevice device = step("connect", () -> VfioUserDevice.open(socket, name, options));
            if (device == null) {
                return;
            }
            opened = true;
            AtomicReference<DeviceGoneException> gone = new AtomicReference<>();
            device.onGone(gone::set);
            List<EventFd> eventFds = new ArrayList<>();
            Fd memory = null;
            Mapping guest = null;
            try {
                exercise(device, eventFds);
                memory = MemFd.create("fuzz guest " + name, DMA_SIZE);
                guest = Mapping.map(memory, 0, DMA_SIZE, true, "fuzz guest " + name);
                Fd memoryFd = memory;
                Mapping guestMapping = guest;
                DmaRegion dma = new DmaRegion(DMA_IOVA, DMA_SIZE, guestMapping, 0, memoryFd, 0, true, true);
                // one window the server maps from the memfd, one without an fd, which it reaches with DMA_READ and
                // DMA_WRITE messages (on the twin socket or the main one): the device copies 16 bytes in each
                DmaRegion byMessages = new DmaRegion(MESSAGE_DMA_IOVA, DMA_SIZE, guestMapping, 0, null, 0, true, true);
                for (DmaRegion window : List.of(dma, byMessages)) {
                    String where = "[0x" + Long.toHexString(window.iova()) + ", +0x" + Long.toHexString(window.size())
                            + ")" + (window.memoryFd() == null ? " without an fd" : "");
                    step("DMA_MAP " + where, () -> {
                        device.mapDma(window);
                        return null;
                    });
                    step("device DMA in " + where, () -> {
                        device.write(0, FuzzDevice.DMA_ADDRESS, 8, window.iova());
                        device.write(0, FuzzDevice.DMA_LENGTH, 8, 16);
                        device.write(0, FuzzDevice.DMA_GO, 4, 1);
                        return null;
                    });
                    step("DMA_UNMAP " + where, () -> {
                        device.unmapDma(window.iova(), window.size());
                        return null;
                    });
                }
                step("DEVICE_RESET", () -> {
                    device.reset();
                    return null;
                });
                checkReaders(device, gone);
            } catch (Throwable e) {
                defects.add("the driver itself failed: " + e + " at " + where(e));
            } finally {
                step("close", () -> {
                    device.close();
                    return null;
                });
                eventFds.forEach(EventFd::close);
                if (guest != null) {
                    guest.close();
                }
                if (memory != null) {
                    memory.close();
                }
            }
        }

        /**
         * A reader that ended (the idle reader, or the twin socket's) leaves the server's requests unanswered
         * and a server that left unnoticed: that is only right once the device is gone. The gone listener runs
         * on the thread that found out, after it woke the others: it is waited for a moment.
         */
        private void checkReaders(VfioUserDevice device, AtomicReference<DeviceGoneException> gone)
                throws InterruptedException {
            List<String> readers = new ArrayList<>(List.of("vfio-user client " + name));
            if (device.twinSocketMode()) {
                readers.add("vfio-user client " + name + " commands");
            }
            Set<String> alive = Thread.getAllStackTraces().keySet().stream()
                    .map(Thread::getName)
                    .collect(Collectors.toSet());
            for (String reader : readers) {
                if (alive.contains(reader)) {
                    continue;
                }
                long deadline = System.nanoTime() + 1_000_000_000L;
                while (gone.get() == null && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                if (gone.get() == null) {
                    defects.add("the thread \"" + reader + "\" ended while the device is not gone");
                }
            }
        }

        private void exercise(VfioUserDevice device, List<EventFd> eventFds) throws Exception {
            DeviceInfo info = step("DEVICE_GET_INFO", device::info);
            int regions = info == null ? 4 : Math.min(info.regionCount(), 6);
            int irqs = info == null ? 2 : Math.min(info.irqCount(), 4);
            step("device-tree identity", device::deviceTreeIdentity);
            for (int region = 0; region < regions; region++) {
                int index = region;
                RegionInfo regionInfo = step("DEVICE_GET_REGION_INFO " + region, () -> device.regionInfo(index));
                if (regionInfo != null && regionInfo.mappable()) {
                    for (SparseArea area : regionInfo.mappableAreas()) {
                        Mapping mapping = step(
                                "mmap of region " + region + " " + area,
                                () -> device.map(index, area.offset(), Math.min(area.size(), 0x1000)));
                        if (mapping != null) {
                            mapping.close();
                        }
                    }
                }
                List<RegionIoEventFd> offered =
                        step("DEVICE_GET_REGION_IO_FDS " + region, () -> device.regionIoEventFds(index));
                for (RegionIoEventFd ioEventFd : offered == null ? List.<RegionIoEventFd>of() : offered) {
                    if (!EventFd.isEventFd(ioEventFd.eventFd().fd())) {
                        defects.add("DEVICE_GET_REGION_IO_FDS " + region + " returned an ioeventfd that is no eventfd: "
                                + ioEventFd);
                    }
                    ioEventFd.close();
                }
            }
            for (int irq = 0; irq < irqs; irq++) {
                int index = irq;
                step("DEVICE_GET_IRQ_INFO " + irq, () -> device.irqInfo(index));
            }
            EventFd edge0 = EventFd.create(true);
            EventFd edge1 = EventFd.create(true);
            EventFd level = EventFd.create(true);
            EventFd unmask = EventFd.create(true);
            eventFds.addAll(List.of(edge0, edge1, level, unmask));
            step("SET_IRQS trigger eventfds", () -> {
                device.setIrqs(new IrqSet(
                        0,
                        IrqAction.TRIGGER,
                        0,
                        2,
                        new IrqSet.Data.EventFds(List.of(Optional.of(edge0), Optional.of(edge1)))));
                return null;
            });
            step("SET_IRQS level trigger", () -> {
                device.setIrqs(IrqSet.trigger(1, 0, Optional.of(level)));
                return null;
            });
            step("SET_IRQS unmask eventfd", () -> {
                device.setIrqs(IrqSet.unmaskEventFd(1, 0, Optional.of(unmask)));
                return null;
            });
            step("SET_IRQS mask bools", () -> {
                device.setIrqs(new IrqSet(1, IrqAction.MASK, 0, 2, new IrqSet.Data.Bools(new boolean[] {true, false})));
                return null;
            });
            step("SET_IRQS unmask", () -> {
                device.setIrqs(IrqSet.unmask(1, 0));
                return null;
            });
            step("REGION_WRITE scratch", () -> {
                device.write(0, FuzzDevice.SCRATCH, 8, 0x1122334455667788L);
                return null;
            });
            step("REGION_READ scratch", () -> device.read(0, FuzzDevice.SCRATCH, 8));
            step("REGION_WRITE level", () -> {
                device.write(0, FuzzDevice.LEVEL, 4, 1);
                return null;
            });
            step("REGION_READ status", () -> device.read(0, FuzzDevice.LEVEL_STATUS, 4));
            step("REGION_READ bulk", () -> {
                device.read(1, 0x100, new byte[64]);
                return null;
            });
            step("REGION_WRITE bulk", () -> {
                device.write(1, 0x10, new byte[100]);
                return null;
            });
            step("SET_IRQS disable", () -> {
                device.setIrqs(IrqSet.disableAll(0));
                return null;
            });
        }
    }

    /**
     * {@link FuzzDevice} with two more things a reply can carry: a posted write (an ioeventfd in
     * DEVICE_GET_REGION_IO_FDS of region 0) and a register page (region 3, jvfio's read-only mmap).
     */
    static final class ServedDevice implements DeviceModel {
        private final FuzzDevice device = new FuzzDevice();

        @Override
        public List<RegionSpec> regions() {
            List<RegionSpec> regions = new ArrayList<>(device.regions());
            regions.add(RegionSpec.readMapped(3, 0x1000, new RegionHandler() {
                @Override
                public long read(long offset, int size) {
                    return 0;
                }

                @Override
                public void write(long offset, int size, long value) {}
            }));
            return regions;
        }

        @Override
        public List<ModelIrqSpec> irqs() {
            return device.irqs();
        }

        @Override
        public List<PostedWrite> postedWrites() {
            return List.of(new PostedWrite(0, FuzzDevice.LEVEL_ACK, 4, 1));
        }

        @Override
        public void attach(DeviceContext context) {
            device.attach(context);
        }

        @Override
        public void reset() {
            device.reset();
        }

        @Override
        public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
            return device.deviceTreeIdentity();
        }
    }
}
