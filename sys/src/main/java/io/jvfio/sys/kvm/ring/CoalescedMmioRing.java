package io.jvfio.sys.kvm.ring;

import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.KvmAbi.kvm_coalesced_mmio;
import io.jvfio.sys.kvm.KvmAbi.kvm_coalesced_mmio_ring;

/**
 * Typed access to the coalesced MMIO ring, the page of a vCPU's mmap at the page offset that
 * KVM_CHECK_EXTENSION(KVM_CAP_COALESCED_MMIO) returns. KVM appends every guest write into a registered
 * zone and advances {@code last}; user space takes entries from {@code first} and advances it. KVM takes
 * its own lock to append; {@link #drain} has one consumer at a time, so its callers serialise their
 * drains with a lock of their own. A full ring makes KVM give up on queueing: the write then exits as
 * ordinary MMIO, and must be handled after what the ring holds.
 *
 * <p>A view of a mapping it does not own (a vCPU's {@code KvmRunView} owns it): once that is closed every call
 * throws {@link IllegalStateException}. Entries carry no vCPU: the ring is the VM's, shared by its vCPUs.
 */
public final class CoalescedMmioRing {
    /** x86-64's page, the ring's size and the unit of KVM_CAP_COALESCED_MMIO's page offset. */
    public static final int PAGE_SIZE = 4096;

    /** One queued guest write, as the ring hands it out. */
    @FunctionalInterface
    public interface Sink {
        /** A write of the low {@code length} bytes of {@code data} (little-endian) at guest-physical {@code address}. */
        void write(long address, int length, long data);
    }

    private static final int MAX = kvm_coalesced_mmio_ring.KVM_COALESCED_MMIO_MAX;

    private final Mapping memory;
    private final long base;

    private CoalescedMmioRing(Mapping memory, long base) {
        if (base < 0 || base % PAGE_SIZE != 0 || base + PAGE_SIZE > memory.size()) {
            throw new IllegalArgumentException(
                    "a coalesced MMIO ring at +" + base + " is not a whole page of " + memory);
        }
        this.memory = memory;
        this.base = base;
    }

    /** The ring in page {@code page} of {@code memory}: a vCPU's mapping, or any page-sized memory for tests. */
    public static CoalescedMmioRing inPage(Mapping memory, int page) {
        return new CoalescedMmioRing(memory, (long) page * PAGE_SIZE);
    }

    /** How many writes the ring can hold: one slot always stays free. */
    public static int capacity() {
        return MAX - 1;
    }

    /** Whether KVM has queued a write that {@link #drain} has not taken yet. */
    public boolean isEmpty() {
        return memory.getIntAcquire(base + kvm_coalesced_mmio_ring.last) == first();
    }

    /**
     * Hands every queued write to {@code sink}, oldest first, and frees its slot; returns how many. Writes
     * KVM queues meanwhile are taken too. One caller at a time.
     */
    public int drain(Sink sink) {
        int first = first();
        int drained = 0;
        int last;
        while ((last = memory.getIntAcquire(base + kvm_coalesced_mmio_ring.last)) != first) {
            checkIndex("last", last);
            long entry = base + kvm_coalesced_mmio_ring.coalesced_mmio + (long) first * kvm_coalesced_mmio.SIZE;
            long address = memory.getLong(entry + kvm_coalesced_mmio.phys_addr);
            int length = memory.getInt(entry + kvm_coalesced_mmio.len);
            long data = littleEndian(entry + kvm_coalesced_mmio.data, length);
            first = (first + 1) % MAX;
            memory.putIntRelease(base + kvm_coalesced_mmio_ring.first, first);
            drained++;
            sink.write(address, length, data);
        }
        return drained;
    }

    private int first() {
        int first = memory.getInt(base + kvm_coalesced_mmio_ring.first);
        checkIndex("first", first);
        return first;
    }

    private static void checkIndex(String name, int index) {
        if (index < 0 || index >= MAX) {
            throw new IllegalStateException("coalesced MMIO ring: " + name + " = " + index + " is not 0.." + (MAX - 1));
        }
    }

    private long littleEndian(long at, int length) {
        long value = 0;
        for (int i = Math.min(Math.max(length, 0), 8) - 1; i >= 0; i--) {
            value = value << 8 | Byte.toUnsignedLong(memory.getByte(at + i));
        }
        return value;
    }
}
