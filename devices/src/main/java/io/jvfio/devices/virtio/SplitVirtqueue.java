package io.jvfio.devices.virtio;

import java.io.IOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One split virtqueue (virtio 1.2, section 2.7) as the device side sees it: the descriptor table, the
 * driver (available) ring and the device (used) ring in guest memory, reached only through
 * {@link GuestMemory}. Chained descriptors and indirect tables are followed; every index, count and
 * length is checked before use, and what breaks the rules is a {@link MalformedQueueException}. Not
 * thread-safe: the transport's lock guards it.
 */
final class SplitVirtqueue {
    static final int DESC_F_NEXT = 1;
    static final int DESC_F_WRITE = 2;
    static final int DESC_F_INDIRECT = 4;
    static final int AVAIL_F_NO_INTERRUPT = 1;
    static final int USED_F_NO_NOTIFY = 1;
    static final int DESCRIPTOR_SIZE = 16;
    /**
     * The most descriptors one indirect table may hold, whatever the queue's size. The specification bounds
     * it only by its 32-bit length; a hostile driver must not make the device walk millions of entries per
     * buffer. A chain longer than the queue's size is the driver's to avoid (virtio 1.2, 2.7.5.3.1), but
     * the device requirements (2.7.5.3.2) do not have the device refuse one, and Linux's virtio_ring builds
     * them: it takes an indirect table for any buffer of more than one piece, checking the count against
     * the ring only for direct chains (a driver may also pick a QueueNum below its seg_max). QEMU's device
     * serves up to 1024 pieces (VIRTQUEUE_MAX_SIZE) and Linux's vhost tables of up to 65536, neither against
     * the queue's size; refusing them would make the device need a reset under a stock driver.
     */
    static final int MAX_INDIRECT_DESCRIPTORS = 1024;

    private final int index;
    private final int maxSize;
    private int size;
    private long descriptorTable;
    private long driverRing;
    private long deviceRing;
    private boolean ready;
    /** The next available-ring entry to take and the next used-ring entry to fill, free-running mod 2^16. */
    private int nextAvailable;

    private int nextUsed;

    SplitVirtqueue(int index, int maxSize) {
        if (maxSize < 1 || maxSize > 32768 || Integer.bitCount(maxSize) != 1) {
            throw new IllegalArgumentException(
                    "queue " + index + ": maximum size " + maxSize + " is not a power of 2 in 1..32768");
        }
        this.index = index;
        this.maxSize = maxSize;
        reset();
    }

    void reset() {
        size = maxSize;
        descriptorTable = 0;
        driverRing = 0;
        deviceRing = 0;
        ready = false;
        nextAvailable = 0;
        nextUsed = 0;
    }

    int maxSize() {
        return maxSize;
    }

    int size() {
        return size;
    }

    boolean isReady() {
        return ready;
    }

    /** QueueNum; checked when the queue is made ready. Ignored while ready, as the driver must not change it then. */
    void setSize(int value) {
        if (!ready) {
            size = value;
        }
    }

    void setDescriptorTable(long address) {
        if (!ready) {
            descriptorTable = address;
        }
    }

    void setDriverRing(long address) {
        if (!ready) {
            driverRing = address;
        }
    }

    void setDeviceRing(long address) {
        if (!ready) {
            deviceRing = address;
        }
    }

    long descriptorTable() {
        return descriptorTable;
    }

    long driverRing() {
        return driverRing;
    }

    long deviceRing() {
        return deviceRing;
    }

    /**
     * QueueReady 1: the size and the rings' alignments (16, 2, 4) are checked, and that no ring runs past
     * the end of the 64-bit address space (each is one contiguous range: an element's address that wrapped
     * would name memory at 0 that is no part of the ring); the rings start empty.
     */
    void enable() throws MalformedQueueException {
        if (size < 1 || size > maxSize || Integer.bitCount(size) != 1) {
            throw new MalformedQueueException(
                    "queue " + index + ": size " + size + " is not a power of 2 in 1.." + maxSize);
        }
        if (descriptorTable % 16 != 0 || driverRing % 2 != 0 || deviceRing % 4 != 0) {
            throw new MalformedQueueException("queue " + index + ": misaligned rings: descriptors 0x"
                    + Long.toHexString(descriptorTable) + ", driver 0x" + Long.toHexString(driverRing) + ", device 0x"
                    + Long.toHexString(deviceRing));
        }
        if (wraps(descriptorTable, DESCRIPTOR_SIZE * (long) size)
                || wraps(driverRing, 6 + 2L * size)
                || wraps(deviceRing, 6 + 8L * size)) {
            throw new MalformedQueueException("queue " + index + ": a ring of " + size
                    + " entries runs past the end of the address space: descriptors 0x"
                    + Long.toHexString(descriptorTable) + ", driver 0x" + Long.toHexString(driverRing) + ", device 0x"
                    + Long.toHexString(deviceRing));
        }
        ready = true;
        nextAvailable = 0;
        nextUsed = 0;
    }

    private static boolean wraps(long start, long length) {
        return Long.compareUnsigned(start + length - 1, start) < 0;
    }

    /** QueueReady 0: the device stops using the queue; its configuration may change again. */
    void disable() {
        ready = false;
    }

    /** The next buffer the driver made available, or empty when the device has taken them all. */
    Optional<DescriptorChain> nextAvailable(GuestMemory memory) throws MalformedQueueException {
        int availableIndex = readU16(memory, driverRing + 2, "the driver ring's idx");
        int outstanding = (availableIndex - nextAvailable) & 0xFFFF;
        if (outstanding == 0) {
            return Optional.empty();
        }
        if (outstanding > size) {
            throw new MalformedQueueException("queue " + index + ": the driver ring's idx " + availableIndex + " is "
                    + outstanding + " entries ahead of the device's " + nextAvailable + ", more than the queue's size "
                    + size);
        }
        // The ring entry is read after idx, as the driver wrote it before idx.
        VarHandle.acquireFence();
        int head = readU16(memory, driverRing + 4 + 2L * (nextAvailable % size), "the driver ring");
        DescriptorChain chain = walk(memory, head);
        nextAvailable = (nextAvailable + 1) & 0xFFFF;
        return Optional.of(chain);
    }

    private DescriptorChain walk(GuestMemory memory, int head) throws MalformedQueueException {
        List<DescriptorChain.Buffer> buffers = new ArrayList<>();
        int tableSize = size;
        // An indirect table is read whole, in one DMA rather than one per descriptor: a large direct read's
        // table holds a descriptor for every page of its data.
        ByteBuffer indirectTable = null;
        boolean sawWritable = false;
        int visited = 0;
        int next = head;
        while (true) {
            if (next >= tableSize) {
                throw new MalformedQueueException("queue " + index + ": descriptor " + next + " of chain " + head
                        + " is past its table of " + tableSize + (indirectTable != null ? " (indirect)" : ""));
            }
            if (++visited > tableSize) {
                throw new MalformedQueueException(
                        "queue " + index + ": chain " + head + " loops (more than " + tableSize + " descriptors)");
            }
            ByteBuffer descriptors;
            int at;
            if (indirectTable != null) {
                descriptors = indirectTable;
                at = DESCRIPTOR_SIZE * next;
            } else {
                descriptors = read(
                        memory,
                        descriptorTable + (long) DESCRIPTOR_SIZE * next,
                        DESCRIPTOR_SIZE,
                        "descriptor " + next + " of chain " + head);
                at = 0;
            }
            long address = descriptors.getLong(at);
            int length = descriptors.getInt(at + 8);
            int flags = Short.toUnsignedInt(descriptors.getShort(at + 12));
            int following = Short.toUnsignedInt(descriptors.getShort(at + 14));
            if ((flags & DESC_F_INDIRECT) != 0) {
                if (indirectTable != null) {
                    throw new MalformedQueueException("queue " + index + ": chain " + head
                            + " has an indirect descriptor " + "inside an indirect table");
                }
                if ((flags & DESC_F_NEXT) != 0) {
                    throw new MalformedQueueException(
                            "queue " + index + ": chain " + head + " has an indirect descriptor " + "with NEXT set");
                }
                long entries = Integer.toUnsignedLong(length) / DESCRIPTOR_SIZE;
                if (length == 0
                        || Integer.toUnsignedLong(length) % DESCRIPTOR_SIZE != 0
                        || entries > MAX_INDIRECT_DESCRIPTORS) {
                    throw new MalformedQueueException(
                            "queue " + index + ": chain " + head + " has an indirect table of "
                                    + Integer.toUnsignedString(length) + " bytes (a multiple of 16, at most "
                                    + MAX_INDIRECT_DESCRIPTORS + " descriptors)");
                }
                if (address % 16 != 0) {
                    throw new MalformedQueueException("queue " + index + ": chain " + head
                            + " has a misaligned indirect " + "table at 0x" + Long.toHexString(address));
                }
                tableSize = (int) entries;
                indirectTable = read(memory, address, length, "the indirect table of chain " + head);
                visited = 0;
                next = 0;
                continue;
            }
            boolean writable = (flags & DESC_F_WRITE) != 0;
            if (sawWritable && !writable) {
                throw new MalformedQueueException("queue " + index + ": chain " + head + " has a device-readable "
                        + "descriptor after a device-writable one");
            }
            sawWritable |= writable;
            if (length < 0) {
                throw new MalformedQueueException("queue " + index + ": chain " + head + " has a buffer of "
                        + Integer.toUnsignedString(length) + " bytes");
            }
            buffers.add(new DescriptorChain.Buffer(address, length, writable));
            if ((flags & DESC_F_NEXT) == 0) {
                return new DescriptorChain(head, buffers);
            }
            next = following;
        }
    }

    /** Whether the driver ring holds a buffer the device has not taken yet. */
    boolean hasAvailable(GuestMemory memory) throws MalformedQueueException {
        return readU16(memory, driverRing + 2, "the driver ring's idx") != nextAvailable;
    }

    /**
     * The device ring's flags: VIRTQ_USED_F_NO_NOTIFY while the device is draining the queue anyway, so
     * the driver need not notify (a hint: it may still).
     */
    void setNotificationsWanted(GuestMemory memory, boolean wanted) throws MalformedQueueException {
        byte[] flags = {(byte) (wanted ? 0 : USED_F_NO_NOTIFY), 0};
        write(memory, deviceRing, flags, "the device ring's flags");
    }

    /** Whether the driver asked not to be interrupted for used buffers (VIRTQ_AVAIL_F_NO_INTERRUPT). */
    boolean interruptSuppressed(GuestMemory memory) throws MalformedQueueException {
        return (readU16(memory, driverRing, "the driver ring's flags") & AVAIL_F_NO_INTERRUPT) != 0;
    }

    /** Returns chain {@code head} to the driver with {@code written} bytes written into it. */
    void putUsed(GuestMemory memory, int head, int written) throws MalformedQueueException {
        ByteBuffer element = ByteBuffer.allocate(8)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0, head)
                .putInt(4, written);
        write(memory, deviceRing + 4 + 8L * (nextUsed % size), element.array(), "the device ring");
        nextUsed = (nextUsed + 1) & 0xFFFF;
        // The driver reads idx and then the element: the element must be visible first.
        VarHandle.releaseFence();
        byte[] idx = {(byte) nextUsed, (byte) (nextUsed >>> 8)};
        write(memory, deviceRing + 2, idx, "the device ring's idx");
    }

    private int readU16(GuestMemory memory, long address, String what) throws MalformedQueueException {
        return Short.toUnsignedInt(read(memory, address, 2, what).getShort(0));
    }

    private ByteBuffer read(GuestMemory memory, long address, int length, String what) throws MalformedQueueException {
        byte[] bytes = new byte[length];
        try {
            memory.read(address, bytes, 0, length);
        } catch (IOException e) {
            throw new MalformedQueueException("queue " + index + ": cannot read " + what + " at 0x"
                    + Long.toHexString(address) + ": " + e.getMessage());
        }
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void write(GuestMemory memory, long address, byte[] bytes, String what) throws MalformedQueueException {
        try {
            memory.write(address, bytes, 0, bytes.length);
        } catch (IOException e) {
            throw new MalformedQueueException("queue " + index + ": cannot write " + what + " at 0x"
                    + Long.toHexString(address) + ": " + e.getMessage());
        }
    }
}
