package io.jvfio.devices.virtio;

import static io.jvfio.devices.virtio.VirtioMmioRegisters.*;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.Poller;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfiouser.client.VfioUserDevice;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;

/**
 * The fixture of the virtio tests: a {@link VirtioMmioDevice} served on a socket, a real vfio-user client
 * that gave it one DMA window of "guest RAM" (a memfd), and a small driver that does what Linux's
 * virtio_mmio and virtio_ring do: the status handshake, feature negotiation, one split queue whose rings
 * live in that RAM, buffers made available and notified, used buffers read back.
 */
final class VirtioTestDriver implements AutoCloseable {
    static final long RAM_IOVA = 0x10_0000;
    static final long RAM_SIZE = 0x2_0000;
    static final long DESCRIPTORS = 0x0000;
    static final long DRIVER_RING = 0x1000;
    static final long DEVICE_RING = 0x2000;
    static final long INDIRECT_TABLE = 0x3000;
    static final long BUFFERS = 0x8000;

    final VirtioMmioDevice device;
    final VfioUserServer server;
    final VfioUserDevice client;
    final Fd ramFd;
    final Mapping ram;
    final EventFd trigger;
    private int queueSize;
    private int availableIndex;

    private VirtioTestDriver(
            VirtioMmioDevice device,
            VfioUserServer server,
            VfioUserDevice client,
            Fd ramFd,
            Mapping ram,
            EventFd trigger) {
        this.device = device;
        this.server = server;
        this.client = client;
        this.ramFd = ramFd;
        this.ram = ram;
        this.trigger = trigger;
    }

    static VirtioTestDriver start(Path directory, VirtioMmioDevice device) throws IOException {
        return start(directory, device, true);
    }

    /**
     * With {@code ramFd} false the client maps its RAM for DMA without its fd, so the device reaches it
     * only through DMA_READ / DMA_WRITE messages.
     */
    static VirtioTestDriver start(Path directory, VirtioMmioDevice device, boolean ramFd) throws IOException {
        return start(directory, device, ramFd, VfioUserServer.Options.defaults(), VfioUserDevice.Options.defaults());
    }

    /**
     * With a client that takes no twin socket (as libvfio-user's) and maps its RAM without the fd: the
     * device's DMA requests and their replies go over the main socket, among the client's register
     * accesses. The server gives a DMA up after {@code dmaTimeout}.
     */
    static VirtioTestDriver startWithDmaOnTheMainSocket(Path directory, VirtioMmioDevice device, Duration dmaTimeout)
            throws IOException {
        return start(
                directory,
                device,
                false,
                VfioUserServer.Options.defaults().withDmaTimeout(dmaTimeout),
                VfioUserDevice.Options.defaults().withTwinSocket(false));
    }

    private static VirtioTestDriver start(
            Path directory,
            VirtioMmioDevice device,
            boolean ramFd,
            VfioUserServer.Options serverOptions,
            VfioUserDevice.Options clientOptions)
            throws IOException {
        Path socket = directory.resolve("virtio.sock");
        VfioUserServer server = VfioUserServer.start(socket, device, serverOptions);
        VfioUserDevice client = null;
        Fd memory = null;
        Mapping ram = null;
        try {
            client = VfioUserDevice.connect(socket, clientOptions);
            memory = MemFd.create("guest", RAM_SIZE);
            ram = Mapping.map(memory, 0, RAM_SIZE, true, "test guest RAM");
            client.mapDma(new DmaRegion(RAM_IOVA, RAM_SIZE, ram, 0, ramFd ? memory : null, 0, true, true));
            EventFd trigger = EventFd.create(true);
            client.setIrqs(IrqSet.trigger(VirtioMmioDevice.IRQ_INDEX, 0, Optional.of(trigger)));
            return new VirtioTestDriver(device, server, client, memory, ram, trigger);
        } catch (IOException | RuntimeException e) {
            if (client != null) {
                client.close();
            }
            server.close();
            if (ram != null) {
                ram.close();
            }
            if (memory != null) {
                memory.close();
            }
            throw e;
        }
    }

    int read(int register) throws IOException {
        return (int) client.read(VirtioMmioDevice.REGS_REGION, register, 4);
    }

    /** Writes a register, then waits for the queue thread to serve what the write made servable. */
    void write(int register, int value) throws IOException {
        client.write(VirtioMmioDevice.REGS_REGION, register, 4, Integer.toUnsignedLong(value));
        try {
            if (!device.awaitQueuesServed(5000)) {
                throw new AssertionError("the queue thread did not finish serving within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    long deviceFeatures() throws IOException {
        write(DEVICE_FEATURES_SEL, 0);
        long low = Integer.toUnsignedLong(read(DEVICE_FEATURES));
        write(DEVICE_FEATURES_SEL, 1);
        return low | ((long) read(DEVICE_FEATURES) << 32);
    }

    /** Reset, ACKNOWLEDGE, DRIVER, the features, FEATURES_OK; returns Status as read back. */
    int negotiate(long features) throws IOException {
        write(STATUS, 0);
        write(STATUS, STATUS_ACKNOWLEDGE);
        write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        deviceFeatures();
        write(DRIVER_FEATURES_SEL, 0);
        write(DRIVER_FEATURES, (int) features);
        write(DRIVER_FEATURES_SEL, 1);
        write(DRIVER_FEATURES, (int) (features >>> 32));
        write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        return read(STATUS);
    }

    /** Queue 0 with {@code size} entries and its rings at the fixture's places, made ready. */
    void setUpQueue(int size) throws IOException {
        setUpQueue(size, RAM_IOVA + DESCRIPTORS);
    }

    void setUpQueue(int size, long descriptorTable) throws IOException {
        queueSize = size;
        availableIndex = 0;
        ram.fill(0, RAM_SIZE, (byte) 0);
        write(QUEUE_SEL, 0);
        write(QUEUE_NUM, size);
        write(QUEUE_DESC_LOW, (int) descriptorTable);
        write(QUEUE_DESC_HIGH, (int) (descriptorTable >>> 32));
        write(QUEUE_DRIVER_LOW, (int) (RAM_IOVA + DRIVER_RING));
        write(QUEUE_DRIVER_HIGH, 0);
        write(QUEUE_DEVICE_LOW, (int) (RAM_IOVA + DEVICE_RING));
        write(QUEUE_DEVICE_HIGH, 0);
        write(QUEUE_READY, 1);
    }

    void driverOk() throws IOException {
        write(STATUS, read(STATUS) | STATUS_DRIVER_OK);
    }

    /** The whole Linux start-up: VERSION_1 negotiated, queue 0 of {@code size} entries, DRIVER_OK. */
    void startLikeLinux(int size) throws IOException {
        negotiate(FEATURE_VERSION_1);
        setUpQueue(size);
        driverOk();
    }

    /** Writes descriptor {@code index} of the table at RAM offset {@code table}. */
    void descriptor(long table, int index, long address, int length, int flags, int next) {
        ByteBuffer entry = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(address)
                .putInt(length)
                .putShort((short) flags)
                .putShort((short) next);
        ram.copyFrom(entry.array(), 0, table + 16L * index, 16);
    }

    /** Puts {@code head} in the driver ring and publishes it (idx), without notifying. */
    void makeAvailable(int head) {
        ram.putShort(DRIVER_RING + 4 + 2L * (availableIndex % queueSize), (short) head);
        availableIndex = (availableIndex + 1) & 0xFFFF;
        ram.putShort(DRIVER_RING + 2, (short) availableIndex);
    }

    void setAvailableIndex(int index) {
        availableIndex = index;
        ram.putShort(DRIVER_RING + 2, (short) index);
    }

    void notifyQueue() throws IOException {
        write(QUEUE_NOTIFY, 0);
    }

    int usedIndex() {
        return Short.toUnsignedInt(ram.getShort(DEVICE_RING + 2));
    }

    /** Used-ring entry {@code slot}: the head's id and the length written. */
    long[] used(int slot) {
        return new long[] {
            Integer.toUnsignedLong(ram.getInt(DEVICE_RING + 4 + 8L * slot)),
            Integer.toUnsignedLong(ram.getInt(DEVICE_RING + 8 + 8L * slot))
        };
    }

    byte[] ramBytes(long offset, int length) {
        byte[] bytes = new byte[length];
        ram.copyTo(offset, bytes, 0, length);
        return bytes;
    }

    /** Waits up to 2 s for the IRQ's trigger eventfd; true if it was signalled. */
    boolean awaitInterrupt() throws ErrnoException {
        return Poller.readable(trigger.fd(), 2000) && trigger.drain() > 0;
    }

    boolean quietFor(int millis) throws ErrnoException {
        return !Poller.readable(trigger.fd(), millis);
    }

    void unmask() throws IOException {
        client.setIrqs(IrqSet.unmask(VirtioMmioDevice.IRQ_INDEX, 0));
    }

    /** The seeded stream as its definition says, computed here independently of the device's code. */
    static byte[] seededStream(long seed, int length) {
        Random random = new Random(seed);
        ByteBuffer words = ByteBuffer.allocate((length + 7) / 8 * 8).order(ByteOrder.LITTLE_ENDIAN);
        while (words.hasRemaining()) {
            words.putLong(random.nextLong());
        }
        return Arrays.copyOf(words.array(), length);
    }

    @Override
    public void close() {
        client.close();
        server.close();
        device.close();
        trigger.close();
        ram.close();
        ramFd.close();
    }
}
