package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.jvfio.devices.DeviceOptions;
import io.jvfio.devices.ModelledDevice;
import io.jvfio.sys.Mapping;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.IrqLine;
import io.jvfio.vfiouser.server.IrqSpec;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;

/**
 * The test device of docs/devices/test-device.md, as a vfio-user {@link io.jvfio.vfiouser.server.DeviceModel}.
 * IRQ index i is line i (one sub-IRQ each), edge or level as chosen at creation.
 *
 * <p>One lock (this object) guards every register. Region callbacks and reset come on the server's
 * connection thread; timers fire on the model's own scheduler thread. The lock is taken before an
 * {@link IrqLine}'s and never the other way round. DMA copies run on the connection thread without the
 * lock (nothing else changes the DMA registers meanwhile).
 */
public final class TestDevice implements ModelledDevice {
    private static final System.Logger LOG = System.getLogger(TestDevice.class.getName());
    /** The device-tree compatible string. */
    public static final String COMPATIBLE = "jvfio,test-device";
    /** Device-tree property: the number of IRQ lines, u32 big-endian. */
    public static final String PROPERTY_IRQ_COUNT = "jvfio,irq-count";
    /** Device-tree property: TRIGGER_MODE (bit i set: line i is level), u32 big-endian. */
    public static final String PROPERTY_LEVEL_MASK = "jvfio,level-mask";

    private final int lineCount;
    private final int levelMask;
    private final int lineMask;

    private DeviceContext context;
    private IrqLine[] lines;
    private Mapping ram;

    // Registers (guarded by this).
    private int status;
    private final int[] timerPeriodUs;
    private final int[] timerCtrl;
    private final int[] timerRemaining;
    private final int[] echoRemaining;
    private final long[] raiseCount;
    private final long[] ackCount;
    private long dmaSrc;
    private long dmaDst;
    private int dmaLen;
    private int dmaStatus;
    private long dmaCount;
    private long doorbells;

    // Timers (guarded by this): a fire whose generation is stale was cancelled and does nothing.
    private final ScheduledFuture<?>[] timerTasks;
    private final long[] timerGeneration;
    private ScheduledThreadPoolExecutor scheduler;
    private boolean closed;

    // Counters since creation (guarded by this).
    private final long[] totalRaises;
    private final long[] totalAcks;
    private long totalTimerFires;
    private long totalDmaTransfers;
    private long totalDmaErrors;
    private long totalDoorbells;
    private long resets;
    private long ignoredAccesses;
    private final Set<String> loggedCauses = new HashSet<>();

    private TestDevice(int lineCount, int levelMask) {
        this.lineCount = lineCount;
        this.levelMask = levelMask;
        this.lineMask = (1 << lineCount) - 1;
        this.timerPeriodUs = new int[lineCount];
        this.timerCtrl = new int[lineCount];
        this.timerRemaining = new int[lineCount];
        this.echoRemaining = new int[lineCount];
        this.raiseCount = new long[lineCount];
        this.ackCount = new long[lineCount];
        this.timerTasks = new ScheduledFuture<?>[lineCount];
        this.timerGeneration = new long[lineCount];
        this.totalRaises = new long[lineCount];
        this.totalAcks = new long[lineCount];
    }

    /**
     * A test device with {@code lines} IRQ lines (1..8); bit i of {@code levelMask} makes line i level,
     * else edge.
     *
     * @throws IllegalArgumentException naming the bad value
     */
    public static TestDevice create(int lines, int levelMask) {
        if (lines < 1 || lines > MAX_LINES) {
            throw new IllegalArgumentException("--irqs must be 1.." + MAX_LINES + ", not " + lines);
        }
        if ((levelMask & ~((1 << lines) - 1)) != 0) {
            throw new IllegalArgumentException("--level-mask 0x" + Integer.toHexString(levelMask) + " names lines beyond the "
                    + lines + " the device has");
        }
        return new TestDevice(lines, levelMask);
    }

    /**
     * From catalog options: {@value DeviceOptions#DEFAULT_IRQS} lines unless given; without a level mask,
     * odd-numbered lines are level and even ones edge.
     */
    public static TestDevice create(DeviceOptions options) {
        if (options.serialSocket().isPresent()) {
            throw new IllegalArgumentException("--serial-socket is an option of ns16550a; test-device has no serial line");
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
        return lineCount;
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
        for (int i = 0; i < lineCount; i++) {
            if (isLevel(i)) {
                level.add(Integer.toString(i));
            }
        }
        return COMPATIBLE + ": " + lineCount + " IRQ line" + (lineCount == 1 ? "" : "s") + " (level: "
                + (level.length() == 0 ? "none" : level.toString()) + "), " + (RAM_SIZE / 1024) + " KiB RAM";
    }

    // ---- DeviceModel ----

    @Override
    public List<RegionSpec> regions() {
        return List.of(RegionSpec.callbacks(REGS_REGION, REGS_SIZE, new Registers()),
                RegionSpec.sparse(RAM_REGION, RAM_SIZE, List.of(new SparseArea(0, RAM_MMAP_SIZE)), new RamPage()));
    }

    @Override
    public List<IrqSpec> irqs() {
        List<IrqSpec> irqs = new ArrayList<>();
        for (int i = 0; i < lineCount; i++) {
            irqs.add(isLevel(i) ? IrqSpec.level(i, 1) : IrqSpec.edge(i, 1));
        }
        return irqs;
    }

    @Override
    public synchronized void attach(DeviceContext deviceContext) {
        if (context != null) {
            throw new IllegalStateException("the test device is already served; create one per server");
        }
        context = deviceContext;
        lines = new IrqLine[lineCount];
        for (int i = 0; i < lineCount; i++) {
            lines[i] = deviceContext.irq(i, 0);
        }
        ram = deviceContext.regionMemory(RAM_REGION);
    }

    /** DEVICE_RESET, and a write of 1 to RESET. */
    @Override
    public synchronized void reset() {
        for (int i = 0; i < lineCount; i++) {
            stopTimer(i);
            if (isLevel(i) && (status & (1 << i)) != 0 && lines != null) {
                lines[i].lower();
            }
            timerPeriodUs[i] = 0;
            timerCtrl[i] = 0;
            timerRemaining[i] = 0;
            echoRemaining[i] = 0;
            raiseCount[i] = 0;
            ackCount[i] = 0;
        }
        status = 0;
        dmaSrc = 0;
        dmaDst = 0;
        dmaLen = 0;
        dmaStatus = DMA_IDLE;
        dmaCount = 0;
        doorbells = 0;
        if (ram != null && ram.isOpen()) {
            ram.fill(0, RAM_SIZE, (byte) 0);
        }
        resets++;
    }

    @Override
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        Map<String, byte[]> properties = new LinkedHashMap<>();
        properties.put(PROPERTY_IRQ_COUNT, ByteBuffer.allocate(4).putInt(lineCount).array());
        properties.put(PROPERTY_LEVEL_MASK, ByteBuffer.allocate(4).putInt(levelMask).array());
        List<DeviceTreeIdentity.IrqAck> acks = new ArrayList<>();
        for (int i = 0; i < lineCount; i++) {
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
    public record Counters(long[] raises, long[] acks, long timerFires, long dmaTransfers, long dmaErrors,
                           long doorbells) {
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
    public synchronized Counters counters() {
        return new Counters(raiseCount, ackCount, 0, dmaCount, 0, doorbells);
    }

    /** Counters since the device was created; reset does not clear them. */
    public synchronized Counters totalCounters() {
        return new Counters(totalRaises, totalAcks, totalTimerFires, totalDmaTransfers, totalDmaErrors, totalDoorbells);
    }

    /** How many times the device was reset (DEVICE_RESET or the RESET register). */
    public synchronized long resets() {
        return resets;
    }

    /** Register accesses the device ignored (odd sizes, unaligned, read-only registers written...). */
    public synchronized long ignoredAccesses() {
        return ignoredAccesses;
    }

    /** STATUS as the register reads. */
    public synchronized int status() {
        return status;
    }

    @Override
    public synchronized Map<String, Long> totals() {
        Map<String, Long> totals = new LinkedHashMap<>();
        for (int i = 0; i < lineCount; i++) {
            totals.put("line" + i + ".raises", totalRaises[i]);
            totals.put("line" + i + ".acks", totalAcks[i]);
        }
        totals.put("timer.fires", totalTimerFires);
        totals.put("dma.transfers", totalDmaTransfers);
        totals.put("dma.errors", totalDmaErrors);
        totals.put("ram.doorbells", totalDoorbells);
        totals.put("device.resets", resets);
        return totals;
    }

    /** Stops the timers and the scheduler thread; the device then ignores timer starts. */
    @Override
    public void close() {
        ScheduledThreadPoolExecutor stopping;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (int i = 0; i < lineCount; i++) {
                stopTimer(i);
            }
            stopping = scheduler;
            scheduler = null;
        }
        if (stopping != null) {
            stopping.shutdownNow();
            try {
                // Outside the lock: a fire may be waiting for it.
                stopping.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "TestDevice[" + describe() + "]";
    }

    // ---- IRQ lines ----

    /** RAISE bit, timer or DMA completion: counts, latches or asserts, and signals the line. */
    private void raise(int line) {
        int bit = 1 << line;
        raiseCount[line]++;
        totalRaises[line]++;
        status |= bit;
        if (lines == null) {
            return;
        }
        if (isLevel(line)) {
            lines[line].raise();
        } else {
            lines[line].pulse();
        }
    }

    private void ack(int bits) {
        for (int line = 0; line < lineCount; line++) {
            int bit = 1 << line;
            if ((bits & bit) == 0) {
                continue;
            }
            ackCount[line]++;
            totalAcks[line]++;
            if (isLevel(line) && (status & bit) != 0 && lines != null) {
                lines[line].lower();
            }
            status &= ~bit;
            if (echoRemaining[line] != 0) {
                echoRemaining[line]--;
                raise(line);
            }
        }
    }

    // ---- timers ----

    /** A write to TIMER_CTRL: stop the countdown, and start a new one if enable is set. */
    private void restartTimer(int line) {
        stopTimer(line);
        int ctrl = timerCtrl[line];
        if ((ctrl & TIMER_ENABLE) == 0) {
            return;
        }
        if (closed) {
            ignored("timer start after close");
            timerCtrl[line] &= ~TIMER_ENABLE;
            return;
        }
        long periodNanos = Math.max(TIMER_MIN_PERIOD_US, Integer.toUnsignedLong(timerPeriodUs[line])) * 1000;
        long generation = timerGeneration[line];
        boolean periodic = (ctrl & TIMER_PERIODIC) != 0;
        Runnable fire = () -> timerFired(line, generation, periodic);
        timerTasks[line] = periodic
                ? scheduler().scheduleAtFixedRate(fire, periodNanos, periodNanos, TimeUnit.NANOSECONDS)
                : scheduler().schedule(fire, periodNanos, TimeUnit.NANOSECONDS);
    }

    private void stopTimer(int line) {
        timerGeneration[line]++;
        ScheduledFuture<?> task = timerTasks[line];
        timerTasks[line] = null;
        if (task != null) {
            task.cancel(false);
        }
    }

    private ScheduledThreadPoolExecutor scheduler() {
        if (scheduler == null) {
            scheduler = new ScheduledThreadPoolExecutor(1,
                    Thread.ofPlatform().daemon().name("jvfio test-device timers").factory());
            scheduler.setRemoveOnCancelPolicy(true);
            scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            scheduler.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        }
        return scheduler;
    }

    private synchronized void timerFired(int line, long generation, boolean periodic) {
        if (closed || timerGeneration[line] != generation) {
            return;
        }
        try {
            totalTimerFires++;
            raise(line);
            if (!periodic) {
                timerCtrl[line] &= ~TIMER_ENABLE;
                timerTasks[line] = null;
                timerGeneration[line]++;
            } else if (timerRemaining[line] != 0 && --timerRemaining[line] == 0) {
                timerCtrl[line] &= ~TIMER_ENABLE;
                stopTimer(line);
            }
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: log it and keep the device alive.
            LOG.log(Level.ERROR, "test-device: timer of line " + line + " failed", e);
        }
    }

    // ---- DMA ----

    /** A transfer as DMA_CTRL started it: the registers are read under the lock, the copy runs without it. */
    private record DmaJob(long source, boolean sourceRam, long destination, boolean destinationRam, int length,
                          int raiseLine) {
    }

    private DmaJob dmaJob(int ctrl) {
        int raiseLine = (ctrl & DMA_RAISE) == 0 ? -1 : (ctrl >>> DMA_LINE_SHIFT) & DMA_LINE_MASK;
        return new DmaJob(dmaSrc, (ctrl & DMA_SRC_RAM) != 0, dmaDst, (ctrl & DMA_DST_RAM) != 0, dmaLen, raiseLine);
    }

    /** Runs a transfer; returns null on success or why it failed. Never throws. */
    private String copy(DmaJob job) {
        int length = job.length();
        if (job.sourceRam() && !insideRam(job.source(), length)) {
            return "source [0x" + Long.toHexString(job.source()) + ", +0x" + Integer.toHexString(length) + ") lies past RAM";
        }
        if (job.destinationRam() && !insideRam(job.destination(), length)) {
            return "destination [0x" + Long.toHexString(job.destination()) + ", +0x" + Integer.toHexString(length)
                    + ") lies past RAM";
        }
        if (length == 0) {
            return null;
        }
        byte[] buffer = new byte[length];
        try {
            if (job.sourceRam()) {
                ram.copyTo(job.source(), buffer, 0, length);
            } else {
                context.dmaRead(job.source(), buffer, 0, length);
            }
            if (job.destinationRam()) {
                ram.copyFrom(buffer, 0, job.destination(), length);
            } else {
                context.dmaWrite(job.destination(), buffer, 0, length);
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return e.getMessage();
        }
    }

    private static boolean insideRam(long offset, int length) {
        return offset >= 0 && offset <= RAM_SIZE - length;
    }

    private void startDma(int ctrl) {
        DmaJob job;
        synchronized (this) {
            if (context == null) {
                ignored("DMA before the device is served");
                return;
            }
            job = dmaJob(ctrl);
        }
        String failure = copy(job);
        synchronized (this) {
            if (failure == null) {
                dmaStatus = DMA_DONE;
                dmaCount++;
                totalDmaTransfers++;
            } else {
                dmaStatus = DMA_ERROR;
                totalDmaErrors++;
                LOG.log(Level.DEBUG, "test-device: DMA failed: {0}", failure);
            }
            if (job.raiseLine() >= 0) {
                if (job.raiseLine() < lineCount) {
                    raise(job.raiseLine());
                } else {
                    ignored("DMA_CTRL names IRQ line " + job.raiseLine() + " of " + lineCount);
                }
            }
        }
    }

    // ---- register file ----

    private synchronized int readRegister(int offset) {
        switch (offset) {
            case ID: return ID_VALUE;
            case VERSION: return VERSION_VALUE;
            case IRQ_COUNT: return lineCount;
            case STATUS: return status;
            case TRIGGER_MODE: return levelMask;
            case DMA_SRC: return (int) dmaSrc;
            case DMA_SRC + 4: return (int) (dmaSrc >>> 32);
            case DMA_DST: return (int) dmaDst;
            case DMA_DST + 4: return (int) (dmaDst >>> 32);
            case DMA_LEN: return dmaLen;
            case DMA_STATUS: return dmaStatus;
            case DMA_COUNT: return (int) dmaCount;
            default:
                break;
        }
        int line = lineOf(offset);
        if (line < 0) {
            return 0;
        }
        return switch ((offset - LINE_BASE) % LINE_STRIDE) {
            case TIMER_PERIOD_US -> timerPeriodUs[line];
            case TIMER_CTRL -> timerCtrl[line];
            case RAISE_COUNT -> (int) raiseCount[line];
            case ACK_COUNT -> (int) ackCount[line];
            case TIMER_REMAINING -> timerRemaining[line];
            case ECHO_REMAINING -> echoRemaining[line];
            default -> 0;
        };
    }

    /** A 32-bit write at an aligned offset. DMA start runs outside the lock. */
    private void writeRegister(int offset, int value) {
        if (offset == DMA_CTRL) {
            if ((value & DMA_START) != 0) {
                startDma(value);
            }
            return;
        }
        synchronized (this) {
            switch (offset) {
                case RESET -> {
                    if ((value & 1) != 0) {
                        reset();
                    }
                }
                case ACK -> ack(value & lineMask);
                case RAISE -> {
                    for (int line = 0; line < lineCount; line++) {
                        if ((value & (1 << line)) != 0) {
                            raise(line);
                        }
                    }
                }
                case DMA_SRC -> dmaSrc = (dmaSrc & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(value);
                case DMA_SRC + 4 -> dmaSrc = (dmaSrc & 0xFFFF_FFFFL) | ((long) value << 32);
                case DMA_DST -> dmaDst = (dmaDst & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(value);
                case DMA_DST + 4 -> dmaDst = (dmaDst & 0xFFFF_FFFFL) | ((long) value << 32);
                case DMA_LEN -> dmaLen = (int) Math.min(Integer.toUnsignedLong(value), RAM_SIZE);
                default -> writeLineRegister(offset, value);
            }
        }
    }

    private void writeLineRegister(int offset, int value) {
        int line = lineOf(offset);
        if (line < 0) {
            ignored("write to read-only or unknown register 0x" + Integer.toHexString(offset));
            return;
        }
        switch ((offset - LINE_BASE) % LINE_STRIDE) {
            case TIMER_PERIOD_US -> timerPeriodUs[line] = value;
            case TIMER_CTRL -> {
                timerCtrl[line] = value & (TIMER_ENABLE | TIMER_PERIODIC);
                restartTimer(line);
            }
            case TIMER_REMAINING -> timerRemaining[line] = value;
            case ECHO_REMAINING -> echoRemaining[line] = value;
            default -> ignored("write to read-only or unknown register 0x" + Integer.toHexString(offset));
        }
    }

    /** The line whose block holds {@code offset}, or -1. */
    private int lineOf(int offset) {
        if (offset < LINE_BASE || offset >= LINE_BASE + lineCount * LINE_STRIDE) {
            return -1;
        }
        return (offset - LINE_BASE) / LINE_STRIDE;
    }

    /** Counts an ignored access and logs its cause the first time. Callers hold the lock. */
    private void ignored(String cause) {
        ignoredAccesses++;
        if (loggedCauses.size() < 64 && loggedCauses.add(cause)) {
            LOG.log(Level.INFO, "test-device: ignored: {0} (logged once)", cause);
        }
    }

    /**
     * Region 0. Reads are assembled byte by byte from the 32-bit registers (no register has read side
     * effects), so any size and alignment reads what a little-endian register file holds. Writes act
     * only when 4 bytes at a 4-aligned offset, or 8 bytes at a 4-aligned offset (two 32-bit writes,
     * low word first); the rest are ignored.
     */
    private final class Registers implements RegionHandler {
        @Override
        public long read(long offset, int size) {
            synchronized (TestDevice.this) {
                long value = 0;
                for (int i = 0; i < size; i++) {
                    value |= (long) readByte(offset + i) << (8 * i);
                }
                return value;
            }
        }

        @Override
        public void read(long offset, byte[] destination) {
            synchronized (TestDevice.this) {
                for (int i = 0; i < destination.length; i++) {
                    destination[i] = (byte) readByte(offset + i);
                }
            }
        }

        private int readByte(long offset) {
            if (offset < 0 || offset >= REGS_SIZE) {
                return 0;
            }
            int word = readRegister((int) offset & ~3);
            return (word >>> (8 * ((int) offset & 3))) & 0xFF;
        }

        @Override
        public void write(long offset, int size, long value) {
            if (offset < 0 || offset > REGS_SIZE - size || (offset & 3) != 0 || (size != 4 && size != 8)) {
                synchronized (TestDevice.this) {
                    ignored(size + "-byte register write at 0x" + Long.toHexString(offset)
                            + " (only aligned 4- and 8-byte writes act)");
                }
                return;
            }
            writeRegister((int) offset, (int) value);
            if (size == 8) {
                writeRegister((int) offset + 4, (int) (value >>> 32));
            }
        }

        @Override
        public void write(long offset, byte[] source) {
            synchronized (TestDevice.this) {
                ignored(source.length + "-byte register write at 0x" + Long.toHexString(offset)
                        + " (only aligned 4- and 8-byte writes act)");
            }
        }
    }

    /**
     * The trapped part of region 1 (and any access that straddles into it): the same RAM bytes, with the
     * doorbell at {@link TestDeviceRegisters#RAM_DOORBELL} and its read-only count at
     * {@link TestDeviceRegisters#RAM_DOORBELL_COUNT}.
     */
    private final class RamPage implements RegionHandler {
        @Override
        public long read(long offset, int size) {
            byte[] bytes = new byte[size];
            read(offset, bytes);
            long value = 0;
            for (int i = size - 1; i >= 0; i--) {
                value = (value << 8) | (bytes[i] & 0xFF);
            }
            return value;
        }

        @Override
        public void read(long offset, byte[] destination) {
            synchronized (TestDevice.this) {
                if (!insideRam(offset, destination.length)) {
                    return;
                }
                ram.copyTo(offset, destination, 0, destination.length);
                int count = (int) doorbells;
                for (int i = 0; i < destination.length; i++) {
                    long at = offset + i;
                    if (at >= RAM_DOORBELL_COUNT && at < RAM_DOORBELL_COUNT + 4) {
                        destination[i] = (byte) (count >>> (8 * (at - RAM_DOORBELL_COUNT)));
                    }
                }
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            byte[] bytes = new byte[size];
            for (int i = 0; i < size; i++) {
                bytes[i] = (byte) (value >>> (8 * i));
            }
            write(offset, bytes);
        }

        @Override
        public void write(long offset, byte[] source) {
            synchronized (TestDevice.this) {
                if (!insideRam(offset, source.length)) {
                    return;
                }
                boolean rings = false;
                for (int i = 0; i < source.length; i++) {
                    long at = offset + i;
                    if (at >= RAM_DOORBELL_COUNT && at < RAM_DOORBELL_COUNT + 4) {
                        continue;
                    }
                    rings |= at == RAM_DOORBELL;
                    ram.putByte(at, source[i]);
                }
                if (rings) {
                    doorbells++;
                    totalDoorbells++;
                }
            }
        }
    }
}
