package io.jvfio.platform.irq;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The state machine against an independent model of docs/irq-state-machine.md under random
 * interleavings of triggers, trapped accesses, acks, timer firings and resets, checking the
 * invariants after every step.
 */
class IrqControllerModelTest {
    private static final int IRQS = 4;

    enum Kind {
        TRIGGER,
        ACCESS,
        ACK,
        TIMER,
        RESET
    }

    record Step(Kind kind, int irq) {}

    @Provide
    Arbitrary<List<Step>> schedules() {
        Arbitrary<Kind> kinds = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, Arbitraries.just(Kind.TRIGGER)),
                net.jqwik.api.Tuple.of(6, Arbitraries.just(Kind.ACCESS)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Kind.ACK)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Kind.TIMER)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.RESET)));
        Arbitrary<Step> steps = Combinators.combine(
                        kinds, Arbitraries.integers().between(0, IRQS - 1))
                .as(Step::new);
        return steps.list().ofMaxSize(300);
    }

    @Property(tries = 400)
    void seedSemanticsHoldWithoutPreciseEoi(@ForAll("schedules") List<Step> schedule) {
        run(schedule, new IrqSpec.Ack[IRQS]);
    }

    @Property(tries = 400)
    void invariantsHoldWithPreciseEoiOnSomeIrqs(@ForAll("schedules") List<Step> schedule) {
        run(schedule, new IrqSpec.Ack[] {null, new IrqSpec.Ack(0, 0x40, 1 << 1), null, new IrqSpec.Ack(0, 0x40, 1 << 3)
        });
    }

    private static void run(List<Step> schedule, IrqSpec.Ack[] acks) {
        boolean[] automasked = {true, false, true, false};
        IrqRig rig = new IrqRig(automasked, acks);
        Model model = new Model(acks);
        for (Step step : schedule) {
            switch (step.kind()) {
                case TRIGGER -> {
                    rig.controller.trigger(step.irq());
                    model.trigger(step.irq());
                }
                case ACCESS -> {
                    rig.controller.trappedAccess(0, 0x0, false, 0);
                    model.genericEoi();
                }
                case ACK -> {
                    rig.controller.trappedAccess(0, 0x40, true, 1L << step.irq());
                    if (acks[step.irq()] != null) {
                        model.ack(step.irq());
                    } else {
                        model.genericEoi();
                    }
                }
                case TIMER -> {
                    rig.fireTimers();
                    model.timer();
                }
                case RESET -> {
                    rig.controller.reset();
                    model.reset();
                }
            }
            check(rig, model, acks);
        }
    }

    private static void check(IrqRig rig, Model model, IrqSpec.Ack[] acks) {
        int genericActive = 0;
        boolean anyActive = false;
        List<Integer> queue = rig.controller.pendingQueue();
        for (int irq = 0; irq < IRQS; irq++) {
            IrqState state = rig.state(irq);
            assertThat(state).as("IRQ %d", irq).isEqualTo(model.states[irq]);
            assertThat(rig.lines[irq])
                    .as("line %d is high exactly while ACTIVE", irq)
                    .isEqualTo(state.injected());
            if (state.injected()) {
                anyActive = true;
                if (acks[irq] == null) {
                    genericActive++;
                }
            }
            int current = irq;
            long occurrences = queue.stream().filter(q -> q == current).count();
            assertThat(occurrences)
                    .as("IRQ %d queued at most once and only while PENDING", irq)
                    .isEqualTo(state == IrqState.PENDING ? 1 : 0);
            IrqController.IrqCounters counters = rig.controller.counters(irq);
            assertThat(counters.triggers())
                    .as("no trigger of IRQ %d lost", irq)
                    .isEqualTo(counters.injections()
                            + counters.coalesced()
                            + counters.cancelledByReset()
                            + (state == IrqState.PENDING || state == IrqState.ACTIVE_FIRED_AGAIN ? 1 : 0));
            assertThat(counters.injections())
                    .as("every injection of IRQ %d ended, at an EOI or by a reset, or is in service now", irq)
                    .isEqualTo(counters.eois() + counters.endedByReset() + (state.injected() ? 1 : 0));
            assertThat(rig.unmasked.stream().filter(u -> u == current).count())
                    .as("IRQ %d unmasked once per EOI and per reset that found it masked, when automasked", irq)
                    .isEqualTo(model.automasked[irq] ? counters.eois() + model.resetUnmasks[irq] : 0);
        }
        assertThat(genericActive)
                .as("at most one ACTIVE IRQ without precise EOI")
                .isLessThanOrEqualTo(1);
        assertThat(queue).containsExactlyElementsOf(model.queue);
        if (rig.fastPath) {
            assertThat(anyActive).as("fast path on only while no IRQ is ACTIVE").isFalse();
        }
        assertThat(rig.fastPath).isEqualTo(model.fastPath);
    }

    /** The reference: the scenario table, written as plainly as possible. */
    private static final class Model {
        final IrqState[] states = new IrqState[IRQS];
        final boolean[] automasked = {true, false, true, false};
        final IrqSpec.Ack[] acks;
        final ArrayDeque<Integer> queue = new ArrayDeque<>();
        /** Resets that found the IRQ fired and still masked at the device, which unmask it. */
        final long[] resetUnmasks = new long[IRQS];

        boolean fastPath = true;
        boolean timerArmed;

        Model(IrqSpec.Ack[] acks) {
            this.acks = acks;
            Arrays.fill(states, IrqState.INACTIVE);
        }

        boolean genericBusy() {
            for (int i = 0; i < IRQS; i++) {
                if (acks[i] == null && states[i] != IrqState.INACTIVE) {
                    return true;
                }
            }
            return false;
        }

        void trigger(int irq) {
            if (states[irq] == IrqState.ACTIVE && !automasked[irq]) {
                states[irq] = IrqState.ACTIVE_FIRED_AGAIN;
                return;
            }
            if (states[irq] != IrqState.INACTIVE) {
                return;
            }
            if (acks[irq] == null && genericBusy()) {
                states[irq] = IrqState.PENDING;
                queue.add(irq);
                return;
            }
            states[irq] = IrqState.ACTIVE;
            fastPath = false;
            timerArmed = true;
        }

        void genericEoi() {
            for (int i = 0; i < IRQS; i++) {
                if (acks[i] == null && (states[i] == IrqState.ACTIVE || states[i] == IrqState.ACTIVE_FIRED_AGAIN)) {
                    if (states[i] == IrqState.ACTIVE_FIRED_AGAIN) {
                        states[i] = IrqState.PENDING;
                        queue.add(i);
                    } else {
                        states[i] = IrqState.INACTIVE;
                    }
                    Integer next = queue.poll();
                    if (next != null) {
                        states[next] = IrqState.ACTIVE;
                    }
                    return;
                }
            }
        }

        void ack(int irq) {
            if (states[irq] == IrqState.ACTIVE) {
                states[irq] = IrqState.INACTIVE;
            } else if (states[irq] == IrqState.ACTIVE_FIRED_AGAIN) {
                states[irq] = IrqState.ACTIVE;
                fastPath = false;
                timerArmed = true;
            }
        }

        void timer() {
            if (!timerArmed) {
                return;
            }
            for (IrqState state : states) {
                if (state == IrqState.ACTIVE || state == IrqState.ACTIVE_FIRED_AGAIN) {
                    return;
                }
            }
            timerArmed = false;
            fastPath = true;
        }

        void reset() {
            for (int i = 0; i < IRQS; i++) {
                if (automasked[i] && states[i] != IrqState.INACTIVE) {
                    resetUnmasks[i]++;
                }
            }
            Arrays.fill(states, IrqState.INACTIVE);
            queue.clear();
            fastPath = true;
            timerArmed = false;
        }
    }
}
