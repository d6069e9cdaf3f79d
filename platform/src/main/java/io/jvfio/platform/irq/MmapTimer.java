package io.jvfio.platform.irq;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The mmap timer of one device (mmap-timeout-ms): due a full timeout after the last injection, when it
 * asks whether an IRQ is still ACTIVE (then it waits another timeout) or the fast path may come back.
 * QEMU re-arms it on every injection; here an injection only moves the deadline, and a timer that fires
 * before it schedules itself for the rest, so an interrupt costs no timer work and the event loop wakes
 * about once per timeout, not once per interrupt. Guarded by the controller's lock, which a firing takes.
 */
final class MmapTimer {
    /** What the controller does when the timer comes due; called with its lock held. */
    interface Expiry {
        /** @return whether an IRQ is still ACTIVE, so the timer must wait another timeout */
        boolean expired();
    }

    private final Scheduler scheduler;
    private final long timeoutNanos;
    private final ReentrantLock lock;
    private final Expiry expiry;
    /** The one outstanding scheduled firing, or null. */
    private Scheduler.Cancellable scheduled;
    /** Bumped by a cancel, so a firing already on its way does nothing. */
    private long generation;

    private long deadline;
    private long rearms;

    MmapTimer(Scheduler scheduler, long timeoutNanos, ReentrantLock lock, Expiry expiry) {
        this.scheduler = scheduler;
        this.timeoutNanos = timeoutNanos;
        this.lock = lock;
        this.expiry = expiry;
    }

    /**
     * An IRQ was injected: the timer is due a full timeout from now. An IRQ injected from the queue at an
     * EOI leaves a running timer as it is, as QEMU did.
     */
    void injected(boolean fromPending) {
        if (fromPending && scheduled != null) {
            return;
        }
        deadline = scheduler.nanoTime() + timeoutNanos;
        if (scheduled == null) {
            schedule(timeoutNanos);
        }
    }

    void cancel() {
        if (scheduled != null) {
            scheduled.cancel();
            scheduled = null;
        }
        generation++;
    }

    /** How many times the timer found an IRQ still ACTIVE and waited another timeout. */
    long rearms() {
        return rearms;
    }

    private void schedule(long delayNanos) {
        long current = ++generation;
        scheduled = scheduler.schedule(delayNanos, () -> fired(current));
    }

    private void fired(long firing) {
        lock.lock();
        try {
            if (firing != generation || scheduled == null) {
                return;
            }
            scheduled = null;
            long now = scheduler.nanoTime();
            long early = deadline - now;
            if (early > 0) {
                schedule(early);
            } else if (expiry.expired()) {
                rearms++;
                deadline = now + timeoutNanos;
                schedule(timeoutNanos);
            }
        } finally {
            lock.unlock();
        }
    }
}
