package io.jvfio.platform.irq;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A controller wired to recording lines, fast path and unmasker, with a test clock that moves only when
 * the test says: by {@link #advance}, or to a timer's due time when the test fires it. The fixture of
 * every state-machine test.
 */
final class IrqRig {
    final boolean[] lines;
    /** Per IRQ, whether its line's last delivery is still in service in the guest (jvfio's irqchip only). */
    final boolean[] inService;

    final List<Integer> unmasked = new ArrayList<>();
    final List<Boolean> fastPathChanges = new ArrayList<>();
    final List<Runnable> timers = new ArrayList<>();
    private final Map<Runnable, Long> dueTimes = new IdentityHashMap<>();
    long now;
    boolean fastPath = true;
    final IrqController controller;

    /** IRQs 0..n-1; {@code automasked[i]} and {@code acks[i]} (null: no precise EOI) per IRQ. */
    IrqRig(boolean[] automasked, IrqSpec.Ack[] acks) {
        this(automasked, acks, false);
    }

    /** With {@code seesGuestEoi}, the lines are on jvfio's irqchip: they report {@link #inService}. */
    IrqRig(boolean[] automasked, IrqSpec.Ack[] acks, boolean seesGuestEoi) {
        int n = automasked.length;
        lines = new boolean[n];
        inService = new boolean[n];
        List<IrqSpec> specs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int irq = i;
            GuestLine line = new GuestLine() {
                @Override
                public void set(boolean level) {
                    lines[irq] = level;
                }

                @Override
                public boolean observesEndOfInterrupt() {
                    return seesGuestEoi;
                }

                @Override
                public boolean inService() {
                    return seesGuestEoi && inService[irq];
                }
            };
            specs.add(new IrqSpec(i, automasked[i], line, Optional.ofNullable(acks[i])));
        }
        Scheduler scheduler = new Scheduler() {
            @Override
            public Cancellable schedule(long delayNanos, Runnable task) {
                timers.add(task);
                dueTimes.put(task, now + delayNanos);
                return () -> {
                    timers.remove(task);
                    dueTimes.remove(task);
                };
            }

            @Override
            public long nanoTime() {
                return now;
            }
        };
        controller = new IrqController(
                specs,
                enabled -> {
                    fastPath = enabled;
                    fastPathChanges.add(enabled);
                },
                scheduler,
                Duration.ofMillis(1100),
                unmasked::add,
                IrqListener.NONE);
    }

    static IrqRig withIrqs(int count) {
        return new IrqRig(new boolean[count], new IrqSpec.Ack[count]);
    }

    static IrqRig automasked(int count) {
        boolean[] automasked = new boolean[count];
        Arrays.fill(automasked, true);
        return new IrqRig(automasked, new IrqSpec.Ack[count]);
    }

    /** Automasked IRQs whose lines are on jvfio's irqchip, which reports the guest's EOIs. */
    static IrqRig automaskedOnJvfioIrqchip(int count) {
        boolean[] automasked = new boolean[count];
        Arrays.fill(automasked, true);
        return new IrqRig(automasked, new IrqSpec.Ack[count], true);
    }

    boolean timerArmed() {
        return !timers.isEmpty();
    }

    /** Moves the clock on without firing anything. */
    void advance(long nanos) {
        now += nanos;
    }

    /**
     * Moves the clock to the armed timers' due time and runs them (one scheduled during the run is kept
     * for the next call).
     */
    void fireTimers() {
        List<Runnable> due = new ArrayList<>(timers);
        timers.clear();
        for (Runnable task : due) {
            now = Math.max(now, dueTimes.remove(task));
        }
        due.forEach(Runnable::run);
    }

    IrqState state(int irq) {
        return controller.state(irq);
    }
}
