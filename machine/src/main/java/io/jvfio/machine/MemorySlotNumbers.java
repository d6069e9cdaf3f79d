package io.jvfio.machine;

import java.util.BitSet;

/**
 * The memory slot numbers of one VM: each new slot takes the lowest free number and gives it back when
 * the slot is gone, so that devices which come and go on a running machine never run it out of KVM's
 * KVM_CAP_NR_MEMSLOTS.
 */
final class MemorySlotNumbers {
    private final int limit;
    private final BitSet taken = new BitSet();

    /** Numbers from 0 to {@code limit} - 1, of which {@code reserved} (the RAM's) are never handed out. */
    MemorySlotNumbers(int limit, int... reserved) {
        this.limit = limit;
        for (int number : reserved) {
            taken.set(number);
        }
    }

    synchronized int take() {
        int number = taken.nextClearBit(0);
        if (number >= limit) {
            throw new IllegalStateException(
                    "all " + limit + " memory slots this KVM offers (KVM_CAP_NR_MEMSLOTS) are in use");
        }
        taken.set(number);
        return number;
    }

    synchronized void release(int number) {
        if (!taken.get(number)) {
            throw new IllegalStateException("memory slot " + number + " was given back twice");
        }
        taken.clear(number);
    }
}
