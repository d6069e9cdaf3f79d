package io.jvfio.platform.irq;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The user-side injection path of one device: QEMU's platform state machine, with jvfio's departures
 * (see docs/irq-state-machine.md):
 * <ul>
 * <li>A trigger of an ACTIVE edge IRQ is remembered once and injected again after its EOI (an edge
 *     raised while the guest handles the last one is not lost); any other trigger of an ACTIVE or
 *     PENDING IRQ is coalesced and counted, not injected again.</li>
 * <li>The ACTIVE IRQ is kept directly, so EOI costs the same with 1 or 64 IRQs.</li>
 * <li>An IRQ that declares an ack (precise EOI) is injected at once, may be ACTIVE beside others, and
 *     ends only by its ack; the seed's one-at-a-time rule still holds for IRQs without one.</li>
 * </ul>
 * Triggers and the timer come from the event loop, EOIs from vCPU threads; one lock guards the IRQ
 * states, the queue and the timer, as in the seed.
 */
public final class IrqController {
    private static final int NONE = -1;

    private final IrqSpec[] irqs;
    private final IrqState[] states;
    /** An edge IRQ fired again while ACTIVE: inject it again once it ends. */
    private final boolean[] refire;
    /** A level IRQ ended while its delivery was still in service in the guest: unmask it at the guest's EOI. */
    private final boolean[] unmaskAtGuestEoi;
    private final long[][] counters;
    private final Map<Long, int[]> acksByLocation = new HashMap<>();
    private final FastPath fastPath;
    private final Scheduler scheduler;
    private final long mmapTimeoutNanos;
    private final IrqUnmasker unmasker;
    private final IrqListener listener;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Integer> pending = new ArrayDeque<>();

    /** The ACTIVE IRQ without precise EOI, or NONE; read without the lock by the EOI fast check. */
    private volatile int genericActive = NONE;
    private int activeCount;
    private boolean fastPathEnabled = true;
    /** The one outstanding mmap timer, or null. */
    private Scheduler.Cancellable timer;
    private long timerGeneration;
    /**
     * When the mmap timer is due: the seed re-arms it on every injection; here an injection only moves
     * this deadline, and a timer that fires before it schedules itself for the rest, so an interrupt
     * costs no timer work and the event loop wakes about once per timeout, not once per interrupt.
     */
    private long timerDeadline;
    private int pendingPeak;
    private long fastPathOn;
    private long fastPathOff;
    private long timerRearms;

    private static final int TRIGGERS = 0;
    private static final int INJECTIONS = 1;
    private static final int COALESCED = 2;
    private static final int EOIS = 3;
    private static final int UNMASKS = 4;
    private static final int CANCELLED = 5;

    public IrqController(List<IrqSpec> irqs, FastPath fastPath, Scheduler scheduler, Duration mmapTimeout,
                         IrqUnmasker unmasker, IrqListener listener) {
        this.irqs = irqs.toArray(IrqSpec[]::new);
        for (int i = 0; i < this.irqs.length; i++) {
            if (this.irqs[i].index() != i) {
                throw new IllegalArgumentException("IRQ specs must be listed by index: entry " + i + " is IRQ "
                        + this.irqs[i].index());
            }
            int index = i;
            this.irqs[i].ack().ifPresent(ack -> acksByLocation.merge(location(ack.region(), ack.offset()),
                    new int[] {index}, IrqController::concat));
        }
        if (mmapTimeout.isNegative() || mmapTimeout.isZero()) {
            throw new IllegalArgumentException("mmap-timeout-ms must be positive, got " + mmapTimeout.toMillis());
        }
        this.states = new IrqState[this.irqs.length];
        java.util.Arrays.fill(states, IrqState.INACTIVE);
        this.refire = new boolean[this.irqs.length];
        this.unmaskAtGuestEoi = new boolean[this.irqs.length];
        this.counters = new long[this.irqs.length][6];
        this.fastPath = fastPath;
        this.scheduler = scheduler;
        this.mmapTimeoutNanos = mmapTimeout.toNanos();
        this.unmasker = unmasker;
        this.listener = listener;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] joined = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }

    private static long location(int region, long offset) {
        return ((long) region << 48) ^ offset;
    }

    /** The device signalled IRQ {@code irq} (its trigger eventfd fired). */
    public void trigger(int irq) {
        checkIndex(irq);
        lock.lock();
        try {
            counters[irq][TRIGGERS]++;
            IrqState state = states[irq];
            if (state == IrqState.ACTIVE && !irqs[irq].automasked() && !refire[irq]) {
                refire[irq] = true;
                return;
            }
            if (state != IrqState.INACTIVE) {
                counters[irq][COALESCED]++;
                listener.coalesced(irq, state);
                return;
            }
            if (irqs[irq].ack().isEmpty() && (genericActive != NONE || !pending.isEmpty())) {
                queue(irq);
                return;
            }
            inject(irq, false);
        } finally {
            lock.unlock();
        }
    }

    private void inject(int irq, boolean fromPending) {
        setState(irq, IrqState.ACTIVE);
        activeCount++;
        if (irqs[irq].ack().isEmpty()) {
            genericActive = irq;
        }
        if (fastPathEnabled) {
            setFastPath(false);
        }
        if (!fromPending || timer == null) {
            timerDeadline = scheduler.nanoTime() + mmapTimeoutNanos;
            if (timer == null) {
                scheduleTimer(mmapTimeoutNanos);
            }
        }
        counters[irq][INJECTIONS]++;
        irqs[irq].line().set(true);
        listener.injected(irq, fromPending);
    }

    /**
     * A guest access trapped on one of the device's regions: the seed's EOI heuristic, or, for a write
     * matching a declared ack, the precise EOI of those IRQs.
     */
    public void trappedAccess(int region, long offset, boolean write, long value) {
        if (write && !acksByLocation.isEmpty()) {
            int[] candidates = acksByLocation.get(location(region, offset));
            if (candidates != null && acknowledgeMatching(candidates, region, offset, value)) {
                return;
            }
        }
        endOfInterrupt();
    }

    private boolean acknowledgeMatching(int[] candidates, int region, long offset, long value) {
        boolean matched = false;
        lock.lock();
        try {
            for (int irq : candidates) {
                if (irqs[irq].ack().orElseThrow().matches(region, offset, value)) {
                    matched = true;
                    if (states[irq] == IrqState.ACTIVE) {
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
        if (genericActive == NONE) {
            return;
        }
        lock.lock();
        try {
            int irq = genericActive;
            if (irq == NONE) {
                return;
            }
            genericActive = NONE;
            complete(irq, false);
            Integer next = pending.poll();
            if (next != null) {
                inject(next, true);
            }
        } finally {
            lock.unlock();
        }
    }

    private void complete(int irq, boolean precise) {
        setState(irq, IrqState.INACTIVE);
        activeCount--;
        irqs[irq].line().set(false);
        counters[irq][EOIS]++;
        listener.endOfInterrupt(irq, precise);
        if (irqs[irq].automasked()) {
            GuestLine line = irqs[irq].line();
            if (line.observesEndOfInterrupt() && line.inService()) {
                unmaskAtGuestEoi[irq] = true;
            } else {
                unmask(irq);
            }
        }
        if (refire[irq]) {
            refire[irq] = false;
            if (irqs[irq].ack().isPresent()) {
                inject(irq, true);
            } else {
                queue(irq);
            }
        }
    }

    private void unmask(int irq) {
        unmasker.unmask(irq);
        counters[irq][UNMASKS]++;
        listener.unmasked(irq);
    }

    /**
     * The guest's EOI of IRQ {@code irq}'s line (jvfio's irqchip reports it): an IRQ that ended while its
     * delivery was still in service is unmasked now. By the EOI the handler has acknowledged the device,
     * so a device that still asserts is raising a new interrupt, not the one just handled: the unmask
     * that KVM's resamplefd gives the irqfd path, and what keeps a level line exact when the seed's
     * heuristic ends the IRQ at the handler's first access.
     */
    public void guestEndOfInterrupt(int irq) {
        checkIndex(irq);
        lock.lock();
        try {
            if (unmaskAtGuestEoi[irq]) {
                unmaskAtGuestEoi[irq] = false;
                unmask(irq);
            }
        } finally {
            lock.unlock();
        }
    }

    private void queue(int irq) {
        setState(irq, IrqState.PENDING);
        pending.add(irq);
        pendingPeak = Math.max(pendingPeak, pending.size());
    }

    private void scheduleTimer(long delayNanos) {
        long generation = ++timerGeneration;
        timer = scheduler.schedule(delayNanos, () -> timerFired(generation));
    }

    private void timerFired(long generation) {
        lock.lock();
        try {
            if (generation != timerGeneration || timer == null) {
                return;
            }
            timer = null;
            long now = scheduler.nanoTime();
            long early = timerDeadline - now;
            if (early > 0) {
                scheduleTimer(early);
            } else if (activeCount > 0) {
                timerRearms++;
                timerDeadline = now + mmapTimeoutNanos;
                scheduleTimer(mmapTimeoutNanos);
            } else if (!fastPathEnabled) {
                setFastPath(true);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Machine reset: every IRQ INACTIVE and its line low, the queue emptied, the fast path back on. */
    public void reset() {
        lock.lock();
        try {
            for (int irq = 0; irq < irqs.length; irq++) {
                if (states[irq] == IrqState.ACTIVE) {
                    irqs[irq].line().set(false);
                } else if (states[irq] == IrqState.PENDING) {
                    counters[irq][CANCELLED]++;
                }
                if (refire[irq]) {
                    refire[irq] = false;
                    counters[irq][CANCELLED]++;
                }
                unmaskAtGuestEoi[irq] = false;
                if (states[irq] != IrqState.INACTIVE) {
                    setState(irq, IrqState.INACTIVE);
                }
            }
            pending.clear();
            genericActive = NONE;
            activeCount = 0;
            if (timer != null) {
                timer.cancel();
                timer = null;
            }
            timerGeneration++;
            if (!fastPathEnabled) {
                setFastPath(true);
            }
        } finally {
            lock.unlock();
        }
    }

    private void setState(int irq, IrqState to) {
        IrqState from = states[irq];
        states[irq] = to;
        listener.stateChanged(irq, from, to);
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

    private void checkIndex(int irq) {
        if (irq < 0 || irq >= irqs.length) {
            throw new IndexOutOfBoundsException("IRQ " + irq + " of " + irqs.length);
        }
    }

    public int irqCount() {
        return irqs.length;
    }

    public IrqState state(int irq) {
        checkIndex(irq);
        lock.lock();
        try {
            return states[irq];
        } finally {
            lock.unlock();
        }
    }

    /** Whether IRQ {@code irq} fired again while ACTIVE and will be injected again after its EOI. */
    public boolean refireRemembered(int irq) {
        checkIndex(irq);
        lock.lock();
        try {
            return refire[irq];
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
            return List.copyOf(pending);
        } finally {
            lock.unlock();
        }
    }

    public IrqCounters counters(int irq) {
        checkIndex(irq);
        lock.lock();
        try {
            long[] c = counters[irq];
            return new IrqCounters(c[TRIGGERS], c[INJECTIONS], c[COALESCED], c[EOIS], c[UNMASKS], c[CANCELLED]);
        } finally {
            lock.unlock();
        }
    }

    public DeviceIrqCounters deviceCounters() {
        lock.lock();
        try {
            return new DeviceIrqCounters(pendingPeak, fastPathOn, fastPathOff, timerRearms);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Per-IRQ counts: every trigger ends as an injection, a coalesced trigger or a cancelled one, or
     * still waits (PENDING, or remembered to fire again).
     */
    public record IrqCounters(long triggers, long injections, long coalesced, long eois, long unmasks,
                              long cancelledByReset) {
    }

    /** Device-wide counts: the deepest the pending queue got, fast-path switches, timer re-arms. */
    public record DeviceIrqCounters(int pendingPeak, long fastPathOn, long fastPathOff, long timerRearms) {
    }
}
