package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;

import io.jvfio.devices.DeviceOptions;
import io.jvfio.devices.ModelledDevice;
import io.jvfio.sys.Mapping;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.RegionSpec;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * The test device of docs/devices/test-device.md, as a vfio-user {@link io.jvfio.vfiouser.server.DeviceModel}.
 * IRQ index i is line i (one sub-IRQ each), edge or level as chosen at creation. The parts are the
 * register file ({@link RegisterFile}), one {@link TestDeviceLine} per line with its countdown timer, the
 * {@link DmaEngine} and the {@link DeviceRam}; this class creates them, serves them and resets them.
 *
 * <p>One lock guards every register of every part. Region callbacks and reset come on the server's
 * connection thread; timers fire on the {@link TimerScheduler}'s thread. The lock is taken before a
 * served line's and never the other way round. DMA copies run on the connection thread without it.
 */
public final class TestDevice implements ModelledDevice {
    private static final System.Logger LOG = System.getLogger(TestDevice.class.getName());
    /** The device-tree compatible string. */
    public static final String COMPATIBLE = "jvfio,test-device";
    /** Device-tree property: the number of IRQ lines, u32 big-endian. */
    public static final String PROPERTY_IRQ_COUNT = "jvfio,irq-count";
    /** Device-tree property: TRIGGER_MODE (bit i set: line i is level), u32 big-endian. */
    public static final String PROPERTY_LEVEL_MASK = "jvfio,level-mask";

    private final int levelMask;
    private final Object lock = new Object();
    private final TestDeviceLine[] lines;
    private final IgnoredAccesses ignored = new IgnoredAccesses();
    private final DmaEngine dma;
    private final DeviceRam ram;
    private final RegisterFile registers;
    /** The timer thread this device started and closes; empty when its scheduler was given to it. */
    private final Optional<TimerThread> ownTimerThread;

    // Guarded by lock.
    private DeviceContext context;
    private long resets;
    private boolean closed;

    private TestDevice(int lineCount, int levelMask, TimerScheduler timers, Optional<TimerThread> ownTimerThread) {
        this.levelMask = levelMask;
        this.ownTimerThread = ownTimerThread;
        this.lines = new TestDeviceLine[lineCount];
        for (int i = 0; i < lineCount; i++) {
            lines[i] = new TestDeviceLine(i, isLevel(i), lock, timers, ignored);
        }
        this.dma = new DmaEngine(lock, lines, ignored);
        this.ram = new DeviceRam(lock);
        this.registers = new RegisterFile(lock, lines, levelMask, dma, ignored, this::reset);
    }

    /**
     * A test device with {@code lines} IRQ lines (1..8); bit i of {@code levelMask} makes line i level,
     * else edge. Its timers run on the real clock, on a thread of its own.
     *
     * @throws IllegalArgumentException naming the bad value
     */
    public static TestDevice create(int lines, int levelMask) {
        check(lines, levelMask);
        TimerThread timers = new TimerThread();
        return new TestDevice(lines, levelMask, timers, Optional.of(timers));
    }

    /** As {@link #create(int, int)}, with the timers on {@code timers}, which the caller owns. */
    static TestDevice create(int lines, int levelMask, TimerScheduler timers) {
        check(lines, levelMask);
        return new TestDevice(lines, levelMask, timers, Optional.empty());
    }

    private static void check(int lines, int levelMask) {
        if (lines < 1 || lines > MAX_LINES) {
            throw new IllegalArgumentException("--irqs must be 1.." + MAX_LINES + ", not " + lines);
        }
        if ((levelMask & ~((1 << lines) - 1)) != 0) {
            throw new IllegalArgumentException("--level-mask 0x" + Integer.toHexString(levelMask)
                    + " names lines beyond the " + lines + " the device has");
        }
    }

    /**
     * From catalog options: {@value DeviceOptions#DEFAULT_IRQS} lines unless given; without a level mask,
     * odd-numbered lines are level and even ones edge.
     */
    public static TestDevice create(DeviceOptions options) {
        if (options.hasBackingFile()) {
            throw new IllegalArgumentException(
                    "--file and --read-only are options of virtio-blk; test-device has no backing file");
        }
        if (options.serialSocket().isPresent()) {
            throw new IllegalArgumentException(
                    "--serial-socket is an option of ns16550a; test-device has no serial line");
        }
        if (options.seed().isPresent()) {
            throw new IllegalArgumentException("--seed is an option of virtio-rng; test-device has no entropy source");
        }
        int lines = options.irqs().orElse(DeviceOptions.DEFAULT_IRQS);
        int mask = options.levelMask().orElse(defaultLevelMask(lines));
        return create(lines, mask);
    }

    /** Odd-numbered lines level, even ones edge. */
    public static int defaultLevelMask(int lines) {
        return 0xAA & ((1 << Math.min(lines, MAX_LINES)) - 1);
    }

    public int lineCount() {
        return lines.length;
    }

    /** TRIGGER_MODE: bit i set when line i is level. */
    public int levelMask() {
        return levelMask;
    }

    public boolean isLevel(int line) {
        return (levelMask & (1 << line)) != 0;
    }

    @Override
    public String kind() {
        return "test-device";
    }

    @Override
    public String describe() {
        StringJoiner level = new StringJoiner(",");
        for (int i = 0; i < lines.length; i++) {
            if (isLevel(i)) {
                level.add(Integer.toString(i));
            }
        }
        return COMPATIBLE + ": " + lines.length + " IRQ line" + (lines.length == 1 ? "" : "s") + " (level: "
                + (level.length() == 0 ? "none" : level.toString()) + "), " + (RAM_SIZE / 1024) + " KiB RAM";
    }

    @Override
    public List<RegionSpec> regions() {
        return List.of(
                RegionSpec.callbacks(REGS_REGION, REGS_SIZE, registers),
                RegionSpec.sparse(RAM_REGION, RAM_SIZE, List.of(new SparseArea(0, RAM_MMAP_SIZE)), ram));
    }

    @Override
    public List<ModelIrqSpec> irqs() {
        List<ModelIrqSpec> irqs = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            irqs.add(isLevel(i) ? ModelIrqSpec.level(i, 1) : ModelIrqSpec.edge(i, 1));
        }
        return irqs;
    }

    @Override
    public void attach(DeviceContext deviceContext) {
        synchronized (lock) {
            if (context != null) {
                throw new IllegalStateException("the test device is already served; create one per server");
            }
            context = deviceContext;
            for (int i = 0; i < lines.length; i++) {
                lines[i].attach(deviceContext.irq(i, 0));
            }
            Mapping memory = deviceContext.regionMemory(RAM_REGION);
            ram.attach(memory);
            dma.attach(deviceContext, memory);
        }
    }

    /** DEVICE_RESET, and a write of 1 to RESET. */
    @Override
    public void reset() {
        synchronized (lock) {
            for (TestDeviceLine line : lines) {
                line.reset();
            }
            dma.reset();
            ram.reset();
            resets++;
        }
    }

    @Override
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        Map<String, byte[]> properties = new LinkedHashMap<>();
        properties.put(
                PROPERTY_IRQ_COUNT, ByteBuffer.allocate(4).putInt(lines.length).array());
        properties.put(
                PROPERTY_LEVEL_MASK, ByteBuffer.allocate(4).putInt(levelMask).array());
        List<DeviceTreeIdentity.IrqAck> acks = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            acks.add(new DeviceTreeIdentity.IrqAck(i, REGS_REGION, STATUS, 1L << i, ACK, 1L << i));
        }
        return Optional.of(new DeviceTreeIdentity(List.of(COMPATIBLE), properties, acks));
    }

    @Override
    public void clientConnected() {
        LOG.log(Level.INFO, "test-device: a client connected");
    }

    @Override
    public void clientDisconnected() {
        LOG.log(Level.INFO, "test-device: the client left");
    }

    // ---- Java-side view ----

    /** What the device has counted: since the last reset ({@link #counters}) or since creation ({@link #totalCounters}). */
    public record Counters(
            long[] raises, long[] acks, long timerFires, long dmaTransfers, long dmaErrors, long doorbells) {
        public Counters {
            raises = raises.clone();
            acks = acks.clone();
        }

        @Override
        public long[] raises() {
            return raises.clone();
        }

        @Override
        public long[] acks() {
            return acks.clone();
        }

        public long raises(int line) {
            return raises[line];
        }

        public long acks(int line) {
            return acks[line];
        }
    }

    /**
     * The counters the registers show (RAISE_COUNT, ACK_COUNT, DMA_COUNT, the doorbell count), as 64-bit
     * values; cleared by reset. Timer fires and DMA errors have no register and read 0 here.
     */
    public Counters counters() {
        synchronized (lock) {
            long[] raises = new long[lines.length];
            long[] acks = new long[lines.length];
            for (int i = 0; i < lines.length; i++) {
                raises[i] = lines[i].raiseCount();
                acks[i] = lines[i].ackCount();
            }
            return new Counters(raises, acks, 0, dma.count(), 0, ram.doorbells());
        }
    }

    /** Counters since the device was created; reset does not clear them. */
    public Counters totalCounters() {
        synchronized (lock) {
            long[] raises = new long[lines.length];
            long[] acks = new long[lines.length];
            for (int i = 0; i < lines.length; i++) {
                raises[i] = lines[i].totalRaises();
                acks[i] = lines[i].totalAcks();
            }
            return new Counters(
                    raises, acks, totalTimerFires(), dma.totalTransfers(), dma.totalErrors(), ram.totalDoorbells());
        }
    }

    private long totalTimerFires() {
        long fires = 0;
        for (TestDeviceLine line : lines) {
            fires += line.totalTimerFires();
        }
        return fires;
    }

    /** How many times the device was reset (DEVICE_RESET or the RESET register). */
    public long resets() {
        synchronized (lock) {
            return resets;
        }
    }

    /** Register accesses the device ignored (odd sizes, unaligned, read-only registers written...). */
    public long ignoredAccesses() {
        synchronized (lock) {
            return ignored.count();
        }
    }

    /** STATUS as the register reads. */
    public int status() {
        synchronized (lock) {
            return TestDeviceLine.status(lines);
        }
    }

    @Override
    public Map<String, Long> totals() {
        synchronized (lock) {
            Map<String, Long> totals = new LinkedHashMap<>();
            for (int i = 0; i < lines.length; i++) {
                totals.put("line" + i + ".raises", lines[i].totalRaises());
                totals.put("line" + i + ".acks", lines[i].totalAcks());
            }
            totals.put("timer.fires", totalTimerFires());
            totals.put("dma.transfers", dma.totalTransfers());
            totals.put("dma.errors", dma.totalErrors());
            totals.put("ram.doorbells", ram.totalDoorbells());
            totals.put("device.resets", resets);
            return totals;
        }
    }

    /** Stops the timers and the timer thread the device started; the device then ignores timer starts. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            for (TestDeviceLine line : lines) {
                line.close();
            }
        }
        // Outside the lock: a timer that is firing may be waiting for it.
        ownTimerThread.ifPresent(TimerThread::close);
    }

    @Override
    public String toString() {
        return "TestDevice[" + describe() + "]";
    }
}
