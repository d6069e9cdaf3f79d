package io.jvfio.devices.virtio;

import static io.jvfio.devices.virtio.VirtioMmioRegisters.*;

import io.jvfio.devices.ModelledDevice;
import io.jvfio.sys.IoVector;
import io.jvfio.sys.Mapping;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.ModelIrqLine;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.PostedWrite;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A virtio device on the virtio-mmio transport, version 2 (docs/devices/virtio-mmio.md), served over
 * vfio-user: one register region, one level IRQ, split virtqueues in the client's memory reached only
 * through its DMA windows. What the device does with buffers is its {@link VirtioBackend}'s.
 *
 * <p>Register reads have no side effects, so the region's shared page holds, at every register's offset,
 * what a read of it returns now (a page a jvfio client maps for reads only: its guest reads the registers
 * with no exit); every write comes to the callbacks, trapped or posted. The page is written under the
 * lock whenever a value changes, from the same {@code readRegister} that answers a read that comes as a
 * message, and InterruptStatus before the line is raised.
 *
 * <p>The interrupt line follows InterruptStatus: raised when a bit is set (a used buffer, or a
 * configuration change), lowered when InterruptACK clears the last one. The device declares that ack for
 * precise EOI. A driver that breaks the queue rules gets DEVICE_NEEDS_RESET (and a configuration-change
 * interrupt) and a log line; the device then serves nothing until reset.
 *
 * <p>A notified queue is served on the device's own thread ({@code virtio-KIND queues}), so that the
 * guest's QueueNotify returns at once: trapped, as a REGION_WRITE answered before any serving, or posted,
 * through the ioeventfd the device offers per queue (datamatch the queue's index, as QEMU's virtio-mmio
 * registers them), which the guest's KVM signals with no exit at all. While that thread drains a queue
 * it sets VIRTQ_USED_F_NO_NOTIFY, so a driver adding buffers meanwhile does not notify, and it interrupts
 * once when the queue is empty (or when it yields to another queue), for every buffer used since.
 *
 * <p>One lock guards the registers, the queues and the backend. Region callbacks and reset come on the
 * server's connection thread, posted writes on its event loop (the one that watches unmask eventfds);
 * the queue thread takes the lock for one buffer at a time, so a register access waits for at most one
 * buffer's serving, and a reset never lands in the middle of one. The lock is taken before the IRQ
 * line's.
 */
public final class VirtioMmioDevice implements ModelledDevice {
    private static final System.Logger LOG = System.getLogger(VirtioMmioDevice.class.getName());
    /** The device-tree compatible string, which jvfio's ACPI writer turns into {@code _HID LNRO0005}. */
    public static final String COMPATIBLE = "virtio,mmio";

    public static final int REGS_REGION = 0;
    public static final int IRQ_INDEX = 0;
    /** VIRTIO_F_INDIRECT_DESC (bit 28): the transport follows indirect descriptor tables. */
    public static final long FEATURE_INDIRECT_DESC = 1L << 28;
    /** The most bytes the device writes into one buffer, however long the driver says it is. */
    static final int MAX_BYTES_PER_BUFFER = 64 * 1024;

    private final VirtioBackend backend;
    private final long deviceFeatures;
    private final ServedQueue[] queues;
    private final Object lock = new Object();
    private final Set<String> loggedCauses = new HashSet<>();

    // Guarded by lock.
    private DeviceContext context;
    private ModelIrqLine line;
    private GuestMemory memory;
    /** The region's page of register values; null until attached. */
    private Mapping page;

    private int status;
    private int deviceFeaturesSelect;
    private int driverFeaturesSelect;
    private long driverFeatures;
    /**
     * The driver wrote a bit in a DriverFeatures word past the two the device offers: a feature never
     * offered, so FEATURES_OK is refused until reset (one flag, not the words, which a hostile driver
     * could make billions of).
     */
    private boolean unofferedFeatureWord;

    private int queueSelect;
    private int interruptStatus;
    /**
     * InterruptStatus bits signalled again while already set: the driver may have read the status and
     * scanned its rings before that, and an InterruptACK it posted (an ioeventfd the device reads later,
     * or a REGION_WRITE with NO_REPLY, as QEMU's vfio-user client sends them unless x-no-posted-writes)
     * would then clear what it never saw. Such bits are raised again at a posted ACK only: a trapped one,
     * which the guest waited for, came after the signal, and the driver's scan after it sees the buffer.
     */
    private int signalledAgain;

    private long raises;
    private long resets;
    private long needsResets;
    private long ignoredAccesses;

    private boolean stopping;
    private boolean draining;
    /** The queue the queue thread took last: the next turn starts looking after it, so none waits behind another. */
    private int lastServed;
    /** Serves notified queues; started when the server attaches the device, stopped by {@link #close}. */
    private Thread queueThread;

    public VirtioMmioDevice(VirtioBackend backend) {
        this.backend = backend;
        this.deviceFeatures = backend.features() | FEATURE_VERSION_1 | FEATURE_INDIRECT_DESC;
        List<Integer> sizes = backend.queueSizes();
        this.queues = new ServedQueue[sizes.size()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new ServedQueue(new SplitVirtqueue(i, sizes.get(i)));
        }
        this.lastServed = queues.length - 1;
    }

    public VirtioBackend backend() {
        return backend;
    }

    @Override
    public String kind() {
        return backend.kind();
    }

    @Override
    public String describe() {
        return COMPATIBLE + " (" + backend.kind() + ", device ID " + backend.deviceId()
                + "): version 2 registers in a 0x"
                + Long.toHexString(REGION_SIZE) + "-byte MMIO region, one level IRQ, " + queues.length
                + " split virtqueue"
                + (queues.length == 1 ? "" : "s") + "; " + backend.describe();
    }

    // ---- DeviceModel ----

    @Override
    public List<RegionSpec> regions() {
        return List.of(RegionSpec.readMapped(REGS_REGION, REGION_SIZE, new Registers()));
    }

    @Override
    public List<ModelIrqSpec> irqs() {
        return List.of(ModelIrqSpec.level(IRQ_INDEX, 1));
    }

    /**
     * QueueNotify of each queue, posted: one ioeventfd per queue with the queue's index as datamatch, so the
     * queue thread learns which queue without a value to read, and a write of an index that names no
     * queue still traps and is counted as ignored. And InterruptACK of the used-buffer bit, what Linux's
     * handler writes back after reading InterruptStatus: posted, it saves the handler one of its two
     * round trips. (jvfio registers that one only where KVM's resampler ends the interrupt; its
     * user-side path ends it at this very write, which must trap for that.)
     */
    @Override
    public List<PostedWrite> postedWrites() {
        List<PostedWrite> posted = new ArrayList<>();
        for (int i = 0; i < queues.length; i++) {
            posted.add(new PostedWrite(REGS_REGION, QUEUE_NOTIFY, 4, i));
        }
        posted.add(new PostedWrite(REGS_REGION, INTERRUPT_ACK, 4, INTERRUPT_USED_BUFFER));
        return List.copyOf(posted);
    }

    @Override
    public void attach(DeviceContext deviceContext) {
        synchronized (lock) {
            if (context != null) {
                throw new IllegalStateException("the " + backend.kind() + " is already served; create one per server");
            }
            context = deviceContext;
            line = deviceContext.irq(IRQ_INDEX, 0);
            page = deviceContext.regionMemory(REGS_REGION);
            // The configuration space never changes: written once.
            for (int offset = CONFIG; offset < REGION_SIZE; offset++) {
                page.putByte(offset, (byte) backend.readConfig(offset - CONFIG));
            }
            publishRegisters();
            queueThread = Thread.ofPlatform()
                    .daemon()
                    .name(backend.kind() + " queues")
                    .start(this::serveNotifiedQueues);
            memory = new GuestMemory() {
                @Override
                public void read(long address, byte[] destination, int offset, int length) throws IOException {
                    deviceContext.dmaRead(address, destination, offset, length);
                }

                @Override
                public void write(long address, byte[] source, int offset, int length) throws IOException {
                    deviceContext.dmaWrite(address, source, offset, length);
                }

                @Override
                public void check(List<DescriptorChain.Buffer> buffers) throws IOException {
                    for (DescriptorChain.Buffer buffer : buffers) {
                        deviceContext.dmaCheck(buffer.address(), buffer.length(), buffer.deviceWritable());
                    }
                }

                @Override
                public boolean direct(
                        List<DescriptorChain.Buffer> buffers,
                        boolean deviceWrites,
                        IoVector vector,
                        DeviceContext.DirectTransfer transfer)
                        throws IOException {
                    long[] addresses = new long[buffers.size()];
                    int[] lengths = new int[buffers.size()];
                    for (int i = 0; i < addresses.length; i++) {
                        addresses[i] = buffers.get(i).address();
                        lengths[i] = buffers.get(i).length();
                    }
                    return deviceContext.dmaDirect(addresses, lengths, deviceWrites, vector, transfer);
                }
            };
        }
    }

    /** DEVICE_RESET: as the driver's write of 0 to Status. */
    @Override
    public void reset() {
        synchronized (lock) {
            resetLocked();
        }
    }

    /**
     * {@code compatible = "virtio,mmio"}, and the ack for precise EOI: the IRQ is pending while
     * InterruptStatus has a bit set, and a write of those bits to InterruptACK acknowledges it.
     */
    @Override
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        int bits = INTERRUPT_USED_BUFFER | INTERRUPT_CONFIG_CHANGE;
        return Optional.of(new DeviceTreeIdentity(
                List.of(COMPATIBLE),
                Map.of(),
                List.of(new DeviceTreeIdentity.IrqAck(
                        IRQ_INDEX, REGS_REGION, INTERRUPT_STATUS, bits, INTERRUPT_ACK, bits))));
    }

    @Override
    public void clientConnected() {
        LOG.log(Level.INFO, "{0}: a client connected", backend.kind());
    }

    /**
     * The device is reset, as a machine's device is with its machine: the next client would otherwise
     * find the last one's DRIVER_OK, queues ready at its ring addresses and interrupt bits, and a notify
     * of its guest would be served from those rings in its own memory before any reset.
     */
    @Override
    public void clientDisconnected() {
        LOG.log(Level.INFO, "{0}: the client left", backend.kind());
        reset();
    }

    /**
     * Counters since creation: {@code line0.raises} (InterruptStatus went from 0 to a bit set),
     * {@code line0.signals} (the client's trigger eventfd was signalled), per queue the buffers used and
     * the bytes written into them, resets, how often the device needed a reset, ignored register accesses,
     * then the backend's.
     */
    @Override
    public Map<String, Long> totals() {
        Map<String, Long> totals = new LinkedHashMap<>();
        synchronized (lock) {
            totals.put("line0.raises", raises);
            totals.put("line0.signals", line == null ? 0 : line.signals());
            for (int i = 0; i < queues.length; i++) {
                totals.put("queue" + i + ".buffers", queues[i].usedBuffers);
                totals.put("queue" + i + ".bytes", queues[i].bytesWritten);
            }
            totals.put("device.resets", resets);
            totals.put("device.needs-reset", needsResets);
            totals.put("regs.ignored", ignoredAccesses);
            totals.putAll(backend.totals());
        }
        return totals;
    }

    /** Stops the queue thread (after the buffer it serves, if any), then closes the backend. */
    @Override
    public void close() {
        Thread thread;
        synchronized (lock) {
            stopping = true;
            lock.notifyAll();
            thread = queueThread;
        }
        if (thread != null) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (lock) {
            backend.close();
        }
    }

    @Override
    public String toString() {
        return "VirtioMmioDevice[" + describe() + "]";
    }

    /**
     * Waits until the queue thread has served every queue notified so far (as a driver waits for the
     * interrupt, for callers that do not take it); false if that took longer than {@code millis}.
     */
    boolean awaitQueuesServed(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (lock) {
            while (draining || nextNotifiedPeek() >= 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || stopping) {
                    return false;
                }
                lock.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    /** The first notified queue after the one served last, round the queues: -1 if none is. */
    private int nextNotifiedPeek() {
        for (int step = 1; step <= queues.length; step++) {
            int index = (lastServed + step) % queues.length;
            if (queues[index].notified) {
                return index;
            }
        }
        return -1;
    }

    /** The Status register as the driver reads it. */
    public int status() {
        synchronized (lock) {
            return status;
        }
    }

    // ---- register semantics, with the lock held ----

    private int readRegister(int offset) {
        return switch (offset) {
            case MAGIC_VALUE -> MAGIC;
            case VERSION_REG -> VERSION;
            case DEVICE_ID -> backend.deviceId();
            case VENDOR_ID_REG -> VENDOR_ID;
            case DEVICE_FEATURES ->
                switch (deviceFeaturesSelect) {
                    case 0 -> (int) deviceFeatures;
                    case 1 -> (int) (deviceFeatures >>> 32);
                    default -> 0;
                };
            case QUEUE_NUM_MAX -> selectedQueue().map(SplitVirtqueue::maxSize).orElse(0);
            case QUEUE_READY ->
                selectedQueue().map(queue -> queue.isReady() ? 1 : 0).orElse(0);
            case INTERRUPT_STATUS -> interruptStatus;
            case STATUS -> status;
            case QUEUE_DESC_LOW ->
                selectedQueue().map(queue -> (int) queue.descriptorTable()).orElse(0);
            case QUEUE_DESC_HIGH ->
                selectedQueue()
                        .map(queue -> (int) (queue.descriptorTable() >>> 32))
                        .orElse(0);
            case QUEUE_DRIVER_LOW ->
                selectedQueue().map(queue -> (int) queue.driverRing()).orElse(0);
            case QUEUE_DRIVER_HIGH ->
                selectedQueue().map(queue -> (int) (queue.driverRing() >>> 32)).orElse(0);
            case QUEUE_DEVICE_LOW ->
                selectedQueue().map(queue -> (int) queue.deviceRing()).orElse(0);
            case QUEUE_DEVICE_HIGH ->
                selectedQueue().map(queue -> (int) (queue.deviceRing() >>> 32)).orElse(0);
            // No shared memory regions: a length of all ones says so (virtio 1.2, 4.2.2).
            case SHM_LEN_LOW, SHM_LEN_HIGH, SHM_BASE_LOW, SHM_BASE_HIGH -> -1;
            // The configuration space never changes.
            case CONFIG_GENERATION -> 0;
            default -> {
                ignored("read of write-only or unknown register 0x" + Integer.toHexString(offset));
                yield 0;
            }
        };
    }

    /** Every readable register into the page, as a read would return it now. */
    private void publishRegisters() {
        if (page == null) {
            return;
        }
        for (int offset : READABLE) {
            page.write(offset, 4, Integer.toUnsignedLong(readRegister(offset)));
        }
    }

    private void publishInterruptStatus() {
        if (page != null) {
            page.write(INTERRUPT_STATUS, 4, Integer.toUnsignedLong(interruptStatus));
        }
    }

    /**
     * A write, then the page: QueueNotify changes no register a read returns and InterruptACK only
     * InterruptStatus (its own business), so the two hot writes skip the rest.
     */
    private void writeRegister(int offset, int value, boolean posted) {
        writeRegisterValue(offset, value, posted);
        if (offset != QUEUE_NOTIFY && offset != INTERRUPT_ACK) {
            publishRegisters();
        }
    }

    private void writeRegisterValue(int offset, int value, boolean posted) {
        String queueConfiguration = queueConfigurationName(offset);
        if (queueConfiguration != null
                && selectedQueue().map(SplitVirtqueue::isReady).orElse(false)) {
            // A write the driver must not make (virtio 1.2, 4.2): the ready queue keeps what it was given.
            ignored(queueConfiguration + " of queue " + queueSelect + " written while the queue is ready");
            return;
        }
        switch (offset) {
            case DEVICE_FEATURES_SEL -> deviceFeaturesSelect = value;
            case DRIVER_FEATURES_SEL -> driverFeaturesSelect = value;
            case DRIVER_FEATURES -> writeDriverFeatures(value);
            case QUEUE_SEL -> queueSelect = value;
            case QUEUE_NUM -> selectedQueue().ifPresent(queue -> queue.setSize(value));
            case QUEUE_READY -> writeQueueReady(value);
            case QUEUE_NOTIFY -> notifyQueue(value);
            case INTERRUPT_ACK -> acknowledge(value, posted);
            case STATUS -> writeStatus(value);
            case QUEUE_DESC_LOW ->
                selectedQueue().ifPresent(queue -> queue.setDescriptorTable(low(queue.descriptorTable(), value)));
            case QUEUE_DESC_HIGH ->
                selectedQueue().ifPresent(queue -> queue.setDescriptorTable(high(queue.descriptorTable(), value)));
            case QUEUE_DRIVER_LOW ->
                selectedQueue().ifPresent(queue -> queue.setDriverRing(low(queue.driverRing(), value)));
            case QUEUE_DRIVER_HIGH ->
                selectedQueue().ifPresent(queue -> queue.setDriverRing(high(queue.driverRing(), value)));
            case QUEUE_DEVICE_LOW ->
                selectedQueue().ifPresent(queue -> queue.setDeviceRing(low(queue.deviceRing(), value)));
            case QUEUE_DEVICE_HIGH ->
                selectedQueue().ifPresent(queue -> queue.setDeviceRing(high(queue.deviceRing(), value)));
            case SHM_SEL -> {}
            default -> ignored("write of read-only or unknown register 0x" + Integer.toHexString(offset));
        }
    }

    /** The name of a register that configures the selected queue and is the driver's only while it is not ready. */
    private static String queueConfigurationName(int offset) {
        return switch (offset) {
            case QUEUE_NUM -> "QueueNum";
            case QUEUE_DESC_LOW -> "QueueDescLow";
            case QUEUE_DESC_HIGH -> "QueueDescHigh";
            case QUEUE_DRIVER_LOW -> "QueueDriverLow";
            case QUEUE_DRIVER_HIGH -> "QueueDriverHigh";
            case QUEUE_DEVICE_LOW -> "QueueDeviceLow";
            case QUEUE_DEVICE_HIGH -> "QueueDeviceHigh";
            default -> null;
        };
    }

    private static long low(long old, int value) {
        return (old & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(value);
    }

    private static long high(long old, int value) {
        return (old & 0xFFFF_FFFFL) | ((long) value << 32);
    }

    private Optional<SplitVirtqueue> selectedQueue() {
        return queueSelect >= 0 && queueSelect < queues.length
                ? Optional.of(queues[queueSelect].ring)
                : Optional.empty();
    }

    /** Feature bits are settled once FEATURES_OK is set; later writes are ignored, as the driver must not make them. */
    private void writeDriverFeatures(int value) {
        if ((status & STATUS_FEATURES_OK) != 0) {
            ignored("DriverFeatures written after FEATURES_OK");
            return;
        }
        switch (driverFeaturesSelect) {
            case 0 -> driverFeatures = low(driverFeatures, value);
            case 1 -> driverFeatures = high(driverFeatures, value);
            default -> {
                if (value != 0) {
                    unofferedFeatureWord = true;
                    ignored("DriverFeatures bits in word " + driverFeaturesSelect
                            + ", which the device does not offer");
                }
            }
        }
    }

    /**
     * A write of 0 resets the device; any other sets bits (virtio 1.2, 4.2.2) and clears none, as the
     * driver must not clear one (2.1.1): features could otherwise change under a running device. Setting
     * FEATURES_OK keeps it only if the driver accepted VIRTIO_F_VERSION_1 and nothing the device did not
     * offer: the driver reads Status back to learn whether the device took its features. DRIVER_OK
     * without FEATURES_OK would have the device serve features never agreed: it needs a reset instead.
     * DEVICE_NEEDS_RESET is the device's to set, and stays until reset.
     */
    private void writeStatus(int value) {
        if (value == 0) {
            resetLocked();
            return;
        }
        int cleared = status & ~value & ~STATUS_NEEDS_RESET;
        if (cleared != 0) {
            ignored("Status write clearing bits 0x" + Integer.toHexString(cleared) + " (only a reset clears them)");
        }
        int accepted = value & ~status & ~STATUS_NEEDS_RESET;
        if ((accepted & STATUS_FEATURES_OK) != 0) {
            if ((driverFeatures & FEATURE_VERSION_1) == 0) {
                accepted &= ~STATUS_FEATURES_OK;
                ignored("FEATURES_OK without VIRTIO_F_VERSION_1: this device speaks virtio 1.x only");
            } else if ((driverFeatures & ~deviceFeatures) != 0) {
                accepted &= ~STATUS_FEATURES_OK;
                ignored("FEATURES_OK with features the device does not offer: 0x"
                        + Long.toHexString(driverFeatures & ~deviceFeatures));
            } else if (unofferedFeatureWord) {
                accepted &= ~STATUS_FEATURES_OK;
                ignored("FEATURES_OK with features the device does not offer, past bit 63");
            }
        }
        if ((accepted & STATUS_DRIVER_OK) != 0 && ((status | accepted) & STATUS_FEATURES_OK) == 0) {
            status |= accepted & ~STATUS_DRIVER_OK;
            needsReset("DRIVER_OK without FEATURES_OK: no features were agreed");
            return;
        }
        status |= accepted;
        if ((accepted & STATUS_FEATURES_OK) != 0) {
            backend.featuresNegotiated(driverFeatures);
        }
        if ((accepted & STATUS_DRIVER_OK) != 0) {
            // Buffers made available (and notified) before DRIVER_OK were left alone until now.
            for (ServedQueue queue : queues) {
                queue.notified = true;
            }
            lock.notifyAll();
        }
    }

    private void writeQueueReady(int value) {
        Optional<SplitVirtqueue> selected = selectedQueue();
        if (selected.isEmpty()) {
            ignored("QueueReady of queue " + queueSelect + ", which does not exist");
            return;
        }
        SplitVirtqueue queue = selected.get();
        if ((value & 1) == 0) {
            queue.disable();
            return;
        }
        if (queue.isReady()) {
            return;
        }
        try {
            queue.enable();
        } catch (MalformedQueueException e) {
            needsReset(e.getMessage());
        }
    }

    private void notifyQueue(int value) {
        if (value < 0 || value >= queues.length) {
            ignored("QueueNotify of queue " + value + ", which does not exist");
            return;
        }
        queues[value].notified = true;
        lock.notifyAll();
    }

    /** The queue thread: waits for a notified queue and drains it, until the device closes. */
    private void serveNotifiedQueues() {
        while (true) {
            int index = -1;
            synchronized (lock) {
                while (!stopping && (index = nextNotified()) < 0) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (stopping) {
                    return;
                }
                draining = true;
            }
            try {
                drain(index);
            } finally {
                synchronized (lock) {
                    draining = false;
                    lock.notifyAll();
                }
            }
        }
    }

    private int nextNotified() {
        int index = nextNotifiedPeek();
        if (index >= 0) {
            queues[index].notified = false;
            lastServed = index;
        }
        return index;
    }

    private boolean anotherNotified(int index) {
        for (int i = 0; i < queues.length; i++) {
            if (i != index && queues[i].notified) {
                return true;
            }
        }
        return false;
    }

    private boolean servable(SplitVirtqueue queue) {
        return (status & STATUS_DRIVER_OK) != 0
                && (status & STATUS_NEEDS_RESET) == 0
                && queue.isReady()
                && memory != null
                && !stopping;
    }

    /**
     * Serves every buffer available on the queue, one a lock hold, with the driver's notifications off
     * meanwhile; once it finds the queue empty with notifications back on, interrupts once for all it
     * used, unless the driver asked not to be. A reset in between ends the drain without an interrupt.
     * After a queue's size of buffers, while another queue waits, the drain yields to it: a driver that
     * keeps one queue full would otherwise have the others wait for good. The queue stays notified and
     * its notifications off, as the thread comes back to it, and the driver is interrupted for what was
     * used so far.
     */
    private void drain(int index) {
        ServedQueue served = queues[index];
        SplitVirtqueue queue = served.ring;
        boolean used = false;
        boolean quiet = false;
        int taken = 0;
        while (true) {
            synchronized (lock) {
                if (!servable(queue)) {
                    return;
                }
                try {
                    if (!quiet) {
                        queue.setNotificationsWanted(memory, false);
                        quiet = true;
                    }
                    if (taken >= queue.size() && anotherNotified(index)) {
                        served.notified = true;
                        if (!queue.interruptSuppressed(memory)) {
                            interrupt(INTERRUPT_USED_BUFFER);
                        }
                        return;
                    }
                    Optional<DescriptorChain> chain = queue.nextAvailable(memory);
                    if (chain.isPresent()) {
                        taken++;
                        int written = backend.serve(index, chain.get(), memory);
                        queue.putUsed(memory, chain.get().head(), written);
                        served.usedBuffers++;
                        served.bytesWritten += written;
                        used = true;
                        continue;
                    }
                    // Notifications back on, then one more look: a buffer the driver added before it saw
                    // them on came without a notify (virtio 1.2, 2.7.10, as QEMU's virtqueue drain does).
                    queue.setNotificationsWanted(memory, true);
                    quiet = false;
                    VarHandle.fullFence();
                    if (queue.hasAvailable(memory)) {
                        continue;
                    }
                    if (used && !queue.interruptSuppressed(memory)) {
                        interrupt(INTERRUPT_USED_BUFFER);
                    }
                    return;
                } catch (MalformedQueueException | RuntimeException e) {
                    if (used) {
                        // the buffers used before the malformed one are the driver's to see (virtio 1.2, 2.7.10)
                        interrupt(INTERRUPT_USED_BUFFER);
                    }
                    // A failure of the device's own, left to end this thread, would leave every queue
                    // unserved for good, resets included: the driver is told to reset instead.
                    needsReset(
                            e instanceof MalformedQueueException
                                    ? e.getMessage()
                                    : "queue " + index + ": the " + backend.kind() + " failed: " + e);
                    return;
                }
            }
        }
    }

    private void interrupt(int bits) {
        if (interruptStatus == 0) {
            raises++;
        }
        signalledAgain |= interruptStatus & bits;
        interruptStatus |= bits;
        publishInterruptStatus();
        // The page is read by another process (the guest): the store goes before the eventfd's write.
        VarHandle.releaseFence();
        if (line != null) {
            line.raise();
        }
    }

    private void acknowledge(int bits, boolean posted) {
        int again = posted ? signalledAgain & bits : 0;
        signalledAgain &= ~bits;
        interruptStatus &= ~bits;
        publishInterruptStatus();
        if (interruptStatus == 0 && line != null) {
            line.lower();
        }
        if (again != 0) {
            interrupt(again);
        }
    }

    /** The driver broke the rules: DEVICE_NEEDS_RESET, a configuration-change interrupt, one log line. */
    private void needsReset(String cause) {
        if ((status & STATUS_NEEDS_RESET) != 0) {
            return;
        }
        needsResets++;
        status |= STATUS_NEEDS_RESET;
        publishRegisters();
        LOG.log(Level.WARNING, "{0}: device needs reset: {1}", backend.kind(), cause);
        interrupt(INTERRUPT_CONFIG_CHANGE);
    }

    private void resetLocked() {
        status = 0;
        deviceFeaturesSelect = 0;
        driverFeaturesSelect = 0;
        driverFeatures = 0;
        unofferedFeatureWord = false;
        queueSelect = 0;
        interruptStatus = 0;
        signalledAgain = 0;
        for (ServedQueue queue : queues) {
            queue.ring.reset();
        }
        backend.featuresNegotiated(0);
        publishRegisters();
        if (line != null) {
            line.lower();
        }
        resets++;
    }

    private void ignored(String cause) {
        ignoredAccesses++;
        if (loggedCauses.size() < 64 && loggedCauses.add(cause)) {
            LOG.log(Level.INFO, "{0}: ignored: {1} (logged once)", backend.kind(), cause);
        }
    }

    /**
     * Region 0: the registers take aligned 32-bit accesses only (the driver must use nothing else); the
     * configuration space from 0x100 takes 1, 2 and 4 bytes, little-endian.
     */
    private final class Registers implements RegionHandler {
        @Override
        public long read(long offset, int size) {
            synchronized (lock) {
                if (offset >= CONFIG && offset + size <= REGION_SIZE) {
                    long value = 0;
                    for (int i = 0; i < size; i++) {
                        value |= (long) (backend.readConfig((int) (offset - CONFIG) + i) & 0xFF) << (8 * i);
                    }
                    return value;
                }
                if (size != 4 || offset % 4 != 0 || offset < 0 || offset >= CONFIG) {
                    ignored(size + "-byte read at 0x" + Long.toHexString(offset)
                            + " (registers take aligned 32-bit reads)");
                    return 0;
                }
                return Integer.toUnsignedLong(readRegister((int) offset));
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            write(offset, size, value, false);
        }

        @Override
        public void postedWrite(long offset, int size, long value) {
            write(offset, size, value, true);
        }

        private void write(long offset, int size, long value, boolean posted) {
            synchronized (lock) {
                if (offset >= CONFIG && offset < REGION_SIZE) {
                    ignored("write to the configuration space at 0x" + Long.toHexString(offset) + " (" + backend.kind()
                            + " has no writable configuration)");
                    return;
                }
                if (size != 4 || offset % 4 != 0 || offset < 0 || offset >= CONFIG) {
                    ignored(size + "-byte write at 0x" + Long.toHexString(offset)
                            + " (registers take aligned 32-bit writes)");
                    return;
                }
                writeRegister((int) offset, (int) value, posted);
            }
        }
    }

    /** A virtqueue with what the device keeps of serving it. Guarded by the device's lock. */
    private static final class ServedQueue {
        final SplitVirtqueue ring;
        /** Notified (or made servable by DRIVER_OK) since the queue thread last looked. */
        boolean notified;

        long usedBuffers;
        long bytesWritten;

        ServedQueue(SplitVirtqueue ring) {
            this.ring = ring;
        }
    }
}
