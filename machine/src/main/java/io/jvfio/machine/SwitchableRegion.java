package io.jvfio.machine;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Mapping;

/**
 * An mmap'ed subregion inside a trapped MMIO region that can be switched at run time between a KVM
 * memory slot (mapped: guest accesses go straight to the memory, no exits) and trapping (unmapped:
 * accesses exit and reach the trapped region's device). A memory slot takes priority over the trapped
 * range it lies in, so the two never need to be reconciled. Toggles are serialized; KVM applies a slot
 * change safely while vCPUs run. Closing it deletes the slot and gives its number back.
 */
public final class SwitchableRegion implements AutoCloseable {
    /** Adds or deletes the memory slot (the machine's VM, or a recorder in tests). */
    public interface SlotControl {
        void map(int slot, long guestAddress, Mapping memory) throws ErrnoException;

        void unmap(int slot) throws ErrnoException;

        /** The slot is gone for good: its number may serve another. */
        void release(int slot);
    }

    private final String name;
    private final SlotControl slots;
    private final int slot;
    private final long guestAddress;
    private final Mapping memory;
    private boolean mapped;
    private boolean closed;
    private long toggles;

    public SwitchableRegion(String name, SlotControl slots, int slot, long guestAddress, Mapping memory) {
        if (guestAddress % GuestRam.PAGE_SIZE != 0 || memory.size() % GuestRam.PAGE_SIZE != 0) {
            throw new IllegalArgumentException(name + ": a memory slot needs a page-aligned address and size, got 0x"
                    + Long.toHexString(guestAddress) + " + 0x" + Long.toHexString(memory.size()));
        }
        this.name = name;
        this.slots = slots;
        this.slot = slot;
        this.guestAddress = guestAddress;
        this.memory = memory;
    }

    /** On: the memory slot exists (no exits). Off: accesses trap. Does nothing if already so. */
    public synchronized void setMapped(boolean on) throws ErrnoException {
        if (on == mapped) {
            return;
        }
        if (closed) {
            throw new IllegalStateException(name + ": its memory slot is closed");
        }
        if (on) {
            slots.map(slot, guestAddress, memory);
        } else {
            slots.unmap(slot);
        }
        mapped = on;
        toggles++;
    }

    /**
     * Deletes the memory slot if it exists and gives its number back. A slot KVM would not delete keeps its
     * number (it still maps the memory) and the failure is thrown; closing again tries again.
     */
    @Override
    public synchronized void close() throws ErrnoException {
        if (closed) {
            return;
        }
        setMapped(false);
        closed = true;
        slots.release(slot);
    }

    public synchronized boolean isMapped() {
        return mapped;
    }

    /** How many times the state changed. */
    public synchronized long toggles() {
        return toggles;
    }

    public int slot() {
        return slot;
    }

    public long guestAddress() {
        return guestAddress;
    }

    public long size() {
        return memory.size();
    }

    public String name() {
        return name;
    }
}
