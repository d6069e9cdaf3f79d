package io.jvfio.platform.irq;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The user-side injection path of one device: QEMU's platform state machine, with jvfio's departures
 * (see docs/irq-state-machine.md):
 * <ul>
 * <li>A trigger of an ACTIVE edge IRQ is remembered once ({@link IrqState#ACTIVE_FIRED_AGAIN}) and
 *     injected again after its EOI (an edge raised while the guest handles the last one is not lost);
 *     any other trigger of an ACTIVE or PENDING IRQ is coalesced and counted, not injected again.</li>
 * <li>The ACTIVE IRQ is kept directly, so EOI costs the same with 1 or 64 IRQs.</li>
 * <li>An IRQ that declares an ack (precise EOI) is injected at once, may be ACTIVE beside others, and
 *     ends only by its ack; the seed's one-at-a-time rule still holds for IRQs without one.</li>
 * </ul>
 * Each IRQ is a {@link PlatformIrq} with its own state and counters; this class keeps what concerns
 * several: the pending queue, the fast path and the {@link MmapTimer}. Triggers and the timer come from
 * the event loop, EOIs from vCPU threads; one lock guards it all, as in the seed.
 */
public final class IrqController {
    private final PlatformIrq[] irqs;
    /** The IRQs that declare an ack at each (region, offset). */
    private final Map<Long, PlatformIrq[]> acksByLocation = new HashMap<>();

    private final FastPath fastPath;
    private final IrqListener listener;
    private final ReentrantLock lock = new ReentrantLock();
    private final MmapTimer mmapTimer;
    private final ArrayDeque<PlatformIrq> pending = new ArrayDeque<>();

    /** The ACTIVE IRQ without precise EOI, or null; read without the lock by the EOI fast check. */
    private volatile PlatformIrq genericActive;

    private int activeCount;
    /** After {@link #close}: triggers, the timer and resets do nothing. */
    private boolean closed;

    private boolean fastPathEnabled = true;
    private int pendingPeak;
    private long fastPathOn;
    private long fastPathOff;

    public IrqController(
            List<IrqSpec> irqs,
            FastPath fastPath,
            Scheduler scheduler,
            Duration mmapTimeout,
            IrqUnmasker unmasker,
            IrqListener listener) {
        this.irqs = new PlatformIrq[irqs.isEmpty() ? 0 : irqs.getLast().index() + 1];
        int next = 0;
        for (IrqSpec spec : irqs) {
            if (spec.index() < next) {
                throw new IllegalArgumentException("IRQ specs must be listed by ascending index: IRQ " + spec.index()
                        + " after IRQ " + (next - 1));
            }
            // An index the device has no interrupt at (VFIO's count 0) is never wired, so it never fires.
            for (; next < spec.index(); next++) {
                this.irqs[next] =
                        new PlatformIrq(new IrqSpec(next, false, level -> {}, Optional.empty()), unmasker, listener);
            }
            PlatformIrq irq = new PlatformIrq(spec, unmasker, listener);
            this.irqs[next++] = irq;
            spec.ack()
                    .ifPresent(ack -> acksByLocation.merge(
                            location(ack.region(), ack.offset()), new PlatformIrq[] {irq}, IrqController::concat));
        }
        if (mmapTimeout.isNegative() || mmapTimeout.isZero()) {
            throw new IllegalArgumentException("mmap-timeout-ms must be positive, got " + mmapTimeout.toMillis());
        }
        this.fastPath = fastPath;
        this.listener = listener;
        this.mmapTimer = new MmapTimer(scheduler, mmapTimeout.toNanos(), lock, this::mmapTimeoutExpired);
    }

    private static PlatformIrq[] concat(PlatformIrq[] a, PlatformIrq[] b) {
        PlatformIrq[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }

    private static long location(int region, long offset) {
        return ((long) region << 48) ^ offset;
    }

    /** The device signalled IRQ {@code irq} once (its trigger eventfd fired). */
    public void trigger(int irq) {
        trigger(irq, 1);
    }

    /**
     * The device signalled IRQ {@code irq}: one read of its trigger eventfd, which carried {@code signals}
     * of the device's writes. Several writes in one read are one trigger, as an edge raised again before
     * it was taken is one interrupt; {@link IrqCounters#signals} keeps the writes.
     */
    public void trigger(int irq, long signals) {
        PlatformIrq fired = irq(irq);
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (!fired.trigger(signals)) {
                // Remembered for after its EOI, or coalesced: the IRQ was already injected or queued.
                return;
            }
            if (!fired.hasPreciseEoi() && (genericActive != null || !pending.isEmpty())) {
                queue(fired);
                return;
            }
            inject(fired, false);
        } finally {
            lock.unlock();
        }
    }

    private void inject(PlatformIrq irq, boolean fromPending) {
        irq.activate();
        activeCount++;
        if (!irq.hasPreciseEoi()) {
            genericActive = irq;
        }
        if (fastPathEnabled) {
            setFastPath(false);
        }
        // The line first: the timer's deadline reads the clock, a system call where the clocksource has
        // no vDSO (the HPET of a nested guest), and nothing but the timer needs it before the guest does.
        irq.raiseLine(fromPending);
        mmapTimer.injected(fromPending);
    }

    /**
     * A guest access trapped on one of the device's regions: the seed's EOI heuristic, or, for a write
     * matching a declared ack, the precise EOI of those IRQs.
     */
    public void trappedAccess(int region, long offset, boolean write, long value) {
        if (write && !acksByLocation.isEmpty()) {
            PlatformIrq[] candidates = acksByLocation.get(location(region, offset));
            if (candidates != null && acknowledgeMatching(candidates, region, offset, value)) {
                return;
            }
        }
        endOfInterrupt();
    }

    private boolean acknowledgeMatching(PlatformIrq[] candidates, int region, long offset, long value) {
        boolean matched = false;
        lock.lock();
        try {
            for (PlatformIrq irq : candidates) {
                if (irq.ack().orElseThrow().matches(region, offset, value)) {
                    matched = true;
                    if (irq.state().injected()) {
                        complete(irq, true);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        return matched;
    }

    /** The seed's EOI: ends the ACTIVE IRQ without precise EOI, then injects the first PENDING one. */
    public void endOfInterrupt() {
        if (genericActive == null) {
            return;
        }
        lock.lock();
        try {
            PlatformIrq irq = genericActive;
            if (irq == null) {
                return;
            }
            genericActive = null;
            complete(irq, false);
            PlatformIrq next = pending.poll();
            if (next != null) {
                inject(next, true);
            }
        } finally {
            lock.unlock();
        }
    }

    private void complete(PlatformIrq irq, boolean precise) {
        activeCount--;
        boolean firedAgain = irq.end(precise);
        if (firedAgain) {
            if (irq.hasPreciseEoi()) {
                inject(irq, true);
            } else {
                queue(irq);
            }
        }
    }

    /**
     * The guest's EOI of IRQ {@code irq}'s line (jvfio's irqchip reports it): an IRQ that ended while its
     * delivery was still in service is unmasked now. By the EOI the handler has acknowledged the device,
     * so a device that still asserts is raising a new interrupt, not the one just handled: the unmask
     * that KVM's resamplefd gives the irqfd path, and what keeps a level line exact when the seed's
     * heuristic ends the IRQ at the handler's first access.
     */
    public void guestEndOfInterrupt(int irq) {
        PlatformIrq ended = irq(irq);
        lock.lock();
        try {
            ended.guestEndOfInterrupt();
        } finally {
            lock.unlock();
        }
    }

    private void queue(PlatformIrq irq) {
        irq.queue();
        pending.add(irq);
        pendingPeak = Math.max(pendingPeak, pending.size());
    }

    /** The mmap timer is due: the fast path comes back unless an IRQ is still ACTIVE. */
    private boolean mmapTimeoutExpired() {
        if (closed) {
            return false;
        }
        if (activeCount > 0) {
            return true;
        }
        if (!fastPathEnabled) {
            setFastPath(true);
        }
        return false;
    }

    /**
     * Machine reset: every IRQ INACTIVE and its line low, an automasked one that fired unmasked at the
     * device, the queue emptied, the fast path back on.
     */
    public void reset() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            for (PlatformIrq irq : irqs) {
                irq.reset();
            }
            forgetInjections();
            if (!fastPathEnabled) {
                setFastPath(true);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The device's end (closed, or gone): every IRQ INACTIVE and its line low, the timer cancelled, and
     * from now on a trigger the event loop was already handling, the timer and a reset do nothing, so
     * neither a line nor the fast path of a region being unmapped comes back. Idempotent.
     */
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (PlatformIrq irq : irqs) {
                irq.stop();
            }
            forgetInjections();
        } finally {
            lock.unlock();
        }
    }

    private void forgetInjections() {
        pending.clear();
        genericActive = null;
        activeCount = 0;
        mmapTimer.cancel();
    }

    private void setFastPath(boolean enabled) {
        fastPathEnabled = enabled;
        if (enabled) {
            fastPathOn++;
        } else {
            fastPathOff++;
        }
        fastPath.setEnabled(enabled);
        listener.fastPathChanged(enabled);
    }

    private PlatformIrq irq(int index) {
        if (index < 0 || index >= irqs.length) {
            throw new IndexOutOfBoundsException("IRQ " + index + " of " + irqs.length);
        }
        return irqs[index];
    }

    public int irqCount() {
        return irqs.length;
    }

    public IrqState state(int irq) {
        PlatformIrq of = irq(irq);
        lock.lock();
        try {
            return of.state();
        } finally {
            lock.unlock();
        }
    }

    public boolean fastPathEnabled() {
        lock.lock();
        try {
            return fastPathEnabled;
        } finally {
            lock.unlock();
        }
    }

    /** The IRQs waiting for injection, first to be injected first. */
    public List<Integer> pendingQueue() {
        lock.lock();
        try {
            return pending.stream().map(PlatformIrq::index).toList();
        } finally {
            lock.unlock();
        }
    }

    public IrqCounters counters(int irq) {
        PlatformIrq of = irq(irq);
        lock.lock();
        try {
            return of.counters();
        } finally {
            lock.unlock();
        }
    }

    public DeviceIrqCounters deviceCounters() {
        lock.lock();
        try {
            return new DeviceIrqCounters(pendingPeak, fastPathOn, fastPathOff, mmapTimer.rearms());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Per-IRQ counts: every trigger ends as an injection, a coalesced trigger or a cancelled one, or
     * still waits (PENDING, or ACTIVE_FIRED_AGAIN); every injection ends at an EOI or at a reset (the
     * machine's, or the device's death found by an access, which may be the very access that would
     * have ended it), or is still in service. {@code signals} counts the device's writes to the trigger
     * eventfd, {@code triggers} the reads that found them: more signals than triggers means the device
     * signalled again before the event loop read the eventfd.
     */
    public record IrqCounters(
            long signals,
            long triggers,
            long injections,
            long coalesced,
            long eois,
            long unmasks,
            long cancelledByReset,
            long endedByReset) {}

    /** Device-wide counts: the deepest the pending queue got, fast-path switches, timer re-arms. */
    public record DeviceIrqCounters(int pendingPeak, long fastPathOn, long fastPathOff, long timerRearms) {}
}
