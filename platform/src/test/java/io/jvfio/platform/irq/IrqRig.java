package io.jvfio.platform.irq;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/**
 * A controller wired to recording lines, fast path and unmasker, with a test clock whose timers run
 * only when the test fires them: the fixture of every state-machine test.
 */
final class IrqRig {
    final boolean[] lines;
    final List<Integer> unmasked = new ArrayList<>();
    final List<Boolean> fastPathChanges = new ArrayList<>();
    final List<Runnable> timers = new ArrayList<>();
    boolean fastPath = true;
    final IrqController controller;

    /** IRQs 0..n-1; {@code automasked[i]} and {@code acks[i]} (null: no precise EOI) per IRQ. */
    IrqRig(boolean[] automasked, IrqSpec.Ack[] acks) {
        int n = automasked.length;
        lines = new boolean[n];
        List<IrqSpec> specs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int irq = i;
            specs.add(new IrqSpec(i, automasked[i], level -> lines[irq] = level, Optional.ofNullable(acks[i])));
        }
        Scheduler scheduler = (delay, task) -> {
            timers.add(task);
            return () -> timers.remove(task);
        };
        controller = new IrqController(specs, enabled -> {
            fastPath = enabled;
            fastPathChanges.add(enabled);
        }, scheduler, Duration.ofMillis(1100), unmasked::add, IrqListener.NONE);
    }

    static IrqRig withIrqs(int count) {
        return new IrqRig(new boolean[count], new IrqSpec.Ack[count]);
    }

    static IrqRig automasked(int count) {
        boolean[] automasked = new boolean[count];
        java.util.Arrays.fill(automasked, true);
        return new IrqRig(automasked, new IrqSpec.Ack[count]);
    }

    boolean timerArmed() {
        return !timers.isEmpty();
    }

    /** Runs the armed timers (a re-arm during the run is kept for the next call). */
    void fireTimers() {
        List<Runnable> due = new ArrayList<>(timers);
        timers.clear();
        for (Iterator<Runnable> it = due.iterator(); it.hasNext(); ) {
            it.next().run();
        }
    }

    IrqState state(int irq) {
        return controller.state(irq);
    }
}
