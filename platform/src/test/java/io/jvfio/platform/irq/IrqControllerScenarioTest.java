package io.jvfio.platform.irq;

import static io.jvfio.platform.irq.IrqState.ACTIVE;
import static io.jvfio.platform.irq.IrqState.ACTIVE_FIRED_AGAIN;
import static io.jvfio.platform.irq.IrqState.INACTIVE;
import static io.jvfio.platform.irq.IrqState.PENDING;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The scenarios of docs/irq-state-machine.md, one test each, numbered as there. */
class IrqControllerScenarioTest {
    private static final int A = 0;
    private static final int B = 1;

    @Test
    void s01TriggerInjectsSwitchesFastPathOffAndArmsTimer() {
        IrqRig rig = IrqRig.withIrqs(2);
        rig.controller.trigger(A);
        assertThat(rig.state(A)).isEqualTo(ACTIVE);
        assertThat(rig.lines[A]).isTrue();
        assertThat(rig.fastPath).isFalse();
        assertThat(rig.timerArmed()).isTrue();
    }

    @Test
    void s01aSignalsFoundByOneReadAreOneTriggerAndOneInjection() {
        IrqRig rig = IrqRig.withIrqs(1);
        rig.controller.trigger(A, 2);
        rig.controller.endOfInterrupt();
        rig.controller.trigger(A, 1);
        IrqController.IrqCounters counters = rig.controller.counters(A);
        assertThat(counters.signals()).isEqualTo(3);
        assertThat(counters.triggers()).isEqualTo(2);
        assertThat(counters.injections()).isEqualTo(2);
        assertThat(counters.coalesced()).isZero();
    }

    @Test
    void s02EoiLowersLineAndUnmasksAutomaskedIrq() {
        IrqRig rig = IrqRig.automasked(2);
        rig.controller.trigger(A);
        rig.controller.trappedAccess(0, 0x10, false, 0);
        assertThat(rig.state(A)).isEqualTo(INACTIVE);
        assertThat(rig.lines[A]).isFalse();
        assertThat(rig.unmasked).containsExactly(A);
    }

    @Test
    void s02EoiDoesNotUnmaskAnEdgeIrq() {
        IrqRig rig = IrqRig.withIrqs(1);
        rig.controller.trigger(A);
        rig.controller.endOfInterrupt();
        assertThat(rig.unmasked).isEmpty();
    }

    @Test
    void s02bEoiWhileTheDeliveryIsInServiceUnmasksOnlyAtTheGuestsEoi() {
        IrqRig rig = IrqRig.automaskedOnJvfioIrqchip(1);
        rig.controller.trigger(A);
        rig.inService[A] = true;
        rig.controller.trappedAccess(0, 0x10, false, 0);
        assertThat(rig.state(A)).isEqualTo(INACTIVE);
        assertThat(rig.lines[A]).isFalse();
        assertThat(rig.unmasked)
                .as("the handler has not acknowledged the device yet")
                .isEmpty();
        rig.inService[A] = false;
        rig.controller.guestEndOfInterrupt(A);
        assertThat(rig.unmasked).containsExactly(A);
        assertThat(rig.controller.counters(A).unmasks()).isEqualTo(1);
    }

    @Test
    void s02cEoiAfterTheGuestsEoiUnmasksAtOnce() {
        IrqRig rig = IrqRig.automaskedOnJvfioIrqchip(1);
        rig.controller.trigger(A);
        rig.controller.trappedAccess(0, 0x10, false, 0);
        assertThat(rig.unmasked).containsExactly(A);
        rig.controller.guestEndOfInterrupt(A);
        assertThat(rig.unmasked).as("one unmask per EOI").containsExactly(A);
    }

    @Test
    void s02dGuestEoiWithNoUnmaskWaitingChangesNothing() {
        IrqRig rig = IrqRig.automaskedOnJvfioIrqchip(1);
        rig.controller.trigger(A);
        rig.inService[A] = true;
        rig.controller.guestEndOfInterrupt(A);
        assertThat(rig.state(A))
                .as("the guest EOI'd without touching the device: still ACTIVE")
                .isEqualTo(ACTIVE);
        assertThat(rig.lines[A]).isTrue();
        assertThat(rig.unmasked).isEmpty();
    }

    @Test
    void s11ResetSendsAnUnmaskThatWaitedForTheGuestsEoiAndOnlyOnce() {
        IrqRig rig = IrqRig.automaskedOnJvfioIrqchip(1);
        rig.controller.trigger(A);
        rig.inService[A] = true;
        rig.controller.endOfInterrupt();
        rig.controller.reset();
        assertThat(rig.unmasked).as("the reset guest never EOIs it").containsExactly(A);
        rig.controller.guestEndOfInterrupt(A);
        assertThat(rig.unmasked).containsExactly(A);
    }

    @Test
    void s11ResetUnmasksAnAutomaskedIrqThatWasActiveOrPendingButNotOneAtRest() {
        IrqRig rig = IrqRig.automasked(3);
        rig.controller.trigger(A);
        rig.controller.trigger(B);

        rig.controller.reset();

        assertThat(rig.unmasked)
                .as("A ACTIVE, B PENDING: both masked at the device")
                .containsExactly(A, B);
        assertThat(rig.controller.counters(A).unmasks()).isEqualTo(1);
    }

    @Test
    void s11ResetLeavesAnEdgeIrqAlone() {
        IrqRig rig = IrqRig.withIrqs(1);
        rig.controller.trigger(A);

        rig.controller.reset();

        assertThat(rig.unmasked).isEmpty();
    }

    @Test
    void closeLowersTheLinesAndNothingAfterItInjectsOrMapsTheFastPath() {
        IrqRig rig = new IrqRig(new boolean[] {true, false}, new IrqSpec.Ack[2]);
        rig.controller.trigger(A);
        rig.controller.trigger(B);

        rig.controller.close();
        rig.controller.trigger(B);
        rig.fireTimers();
        rig.controller.reset();

        assertThat(rig.lines).containsExactly(false, false);
        assertThat(rig.state(A)).isEqualTo(INACTIVE);
        assertThat(rig.state(B)).isEqualTo(INACTIVE);
        assertThat(rig.timerArmed()).isFalse();
        assertThat(rig.fastPath)
                .as("left off: the device's regions are going away")
                .isFalse();
        assertThat(rig.unmasked)
                .as("the device's IRQs are being disabled, not unmasked")
                .isEmpty();
    }

    @Test
    void s03TimerAfterEoiRestoresFastPath() {
        IrqRig rig = IrqRig.withIrqs(1);
        rig.controller.trigger(A);
        rig.controller.endOfInterrupt();
        assertThat(rig.fastPath).isFalse();
        rig.fireTimers();
        assertThat(rig.fastPath).isTrue();
        assertThat(rig.timerArmed()).isFalse();
    }

    @Test
    void s04TimerWhileActiveRearmsAndKeepsFastPathOff() {
        IrqRig rig = IrqRig.withIrqs(1);
        rig.controller.trigger(A);
        rig.fireTimers();
        assertThat(rig.fastPath).isFalse();
        assertThat(rig.timerArmed()).isTrue();
        assertThat(rig.controller.deviceCounters().timerRearms()).isEqualTo(1);
    }

    @Test
    void s04bAnInjectionMovesTheTimerOnWithoutSchedulingAnother() {
        IrqRig rig = IrqRig.withIrqs(1);
        long timeout = Duration.ofMillis(1100).toNanos();
        rig.controller.trigger(A);
        rig.controller.endOfInterrupt();
        rig.advance(timeout / 2);
        rig.controller.trigger(A);
        rig.controller.endOfInterrupt();
        assertThat(rig.timers).hasSize(1);
        rig.fireTimers();
        assertThat(rig.fastPath).as("half a timeout after the last injection").isFalse();
        assertThat(rig.timerArmed()).isTrue();
        assertThat(rig.controller.deviceCounters().timerRearms()).isZero();
        rig.fireTimers();
        assertThat(rig.now).isEqualTo(timeout / 2 + timeout);
        assertThat(rig.fastPath).isTrue();
        assertThat(rig.timerArmed()).isFalse();
    }

    @Test
    void s05SecondIrqWhileOneIsActiveQueuesAsPending() {
        IrqRig rig = IrqRig.withIrqs(2);
        rig.controller.trigger(A);
        rig.controller.trigger(B);
        assertThat(rig.state(B)).isEqualTo(PENDING);
        assertThat(rig.lines[B]).isFalse();
        assertThat(rig.controller.pendingQueue()).containsExactly(B);
    }

    @Test
    void s06EoiWithPendingIrqInjectsNextPendingWithoutRearmingTimer() {
        IrqRig rig = IrqRig.automasked(2);
        rig.controller.trigger(A);
        rig.controller.trigger(B);
        int timersBefore = rig.timers.size();
        Runnable armed = rig.timers.getFirst();
        rig.controller.endOfInterrupt();
        assertThat(rig.state(A)).isEqualTo(INACTIVE);
        assertThat(rig.lines[A]).isFalse();
        assertThat(rig.unmasked).containsExactly(A);
        assertThat(rig.state(B)).isEqualTo(ACTIVE);
        assertThat(rig.lines[B]).isTrue();
        assertThat(rig.controller.pendingQueue()).isEmpty();
        assertThat(rig.fastPath).isFalse();
        assertThat(rig.timers).hasSize(timersBefore).containsExactly(armed);
    }

    @Test
    void s07EoiOfTheInjectedPendingIrqEndsIt() {
        IrqRig rig = IrqRig.withIrqs(2);
        rig.controller.trigger(A);
        rig.controller.trigger(B);
        rig.controller.endOfInterrupt();
        rig.controller.endOfInterrupt();
        assertThat(rig.state(B)).isEqualTo(INACTIVE);
        assertThat(rig.lines[B]).isFalse();
    }

    @Test
    void s08RetriggerOfActiveEdgeIrqIsInjectedAgainAfterItsEoiOnce() {
        IrqRig rig = IrqRig.withIrqs(1);
        rig.controller.trigger(A);
        rig.controller.trigger(A);
        rig.controller.trigger(A);
        assertThat(rig.state(A)).isEqualTo(ACTIVE_FIRED_AGAIN);
        assertThat(rig.lines[A]).isTrue();
        assertThat(rig.controller.counters(A).coalesced())
                .as("the third joins the second")
                .isEqualTo(1);

        rig.controller.endOfInterrupt();

        assertThat(rig.state(A)).isEqualTo(ACTIVE);
        assertThat(rig.lines[A]).isTrue();
        assertThat(rig.controller.counters(A).injections()).isEqualTo(2);
        assertThat(rig.controller.counters(A).eois()).isEqualTo(1);
        rig.controller.endOfInterrupt();
        assertThat(rig.state(A)).isEqualTo(INACTIVE);
    }

    @Test
    void s08RetriggerOfActiveAutomaskedIrqIsCoalescedAndCounted() {
        IrqRig rig = IrqRig.automasked(1);
        rig.controller.trigger(A);
        rig.controller.trigger(A);
        assertThat(rig.state(A)).as("a level IRQ's fire is not remembered").isEqualTo(ACTIVE);
        assertThat(rig.controller.counters(A).injections()).isEqualTo(1);
        assertThat(rig.controller.counters(A).coalesced()).isEqualTo(1);
        rig.controller.endOfInterrupt();
        assertThat(rig.state(A))
                .as("the unmask re-fires it if the device still asserts it")
                .isEqualTo(INACTIVE);
    }

    @Test
    void s08RetriggerOfActiveEdgeIrqQueuesBehindIrqsAlreadyPending() {
        IrqRig rig = IrqRig.withIrqs(2);
        rig.controller.trigger(A);
        rig.controller.trigger(B);
        rig.controller.trigger(A);

        rig.controller.endOfInterrupt();

        assertThat(rig.state(B)).isEqualTo(ACTIVE);
        assertThat(rig.state(A)).isEqualTo(PENDING);
        assertThat(rig.controller.pendingQueue()).containsExactly(A);
        rig.controller.endOfInterrupt();
        assertThat(rig.state(A)).isEqualTo(ACTIVE);
    }

    @Test
    void s08RetriggerOfActivePreciseEdgeIrqIsInjectedAgainAtItsAck() {
        IrqRig rig = new IrqRig(new boolean[] {false}, new IrqSpec.Ack[] {new IrqSpec.Ack(0, 0x20, 1)});
        rig.controller.trigger(A);
        rig.controller.trigger(A);
        assertThat(rig.state(A)).isEqualTo(ACTIVE_FIRED_AGAIN);

        rig.controller.trappedAccess(0, 0x20, true, 1);

        assertThat(rig.state(A)).isEqualTo(ACTIVE);
        assertThat(rig.lines[A]).isTrue();
        assertThat(rig.controller.pendingQueue()).isEmpty();
        assertThat(rig.controller.counters(A).injections()).isEqualTo(2);
    }

    @Test
    void s11ResetCancelsAFireRememberedWhileActive() {
        IrqRig rig = IrqRig.withIrqs(1);
        rig.controller.trigger(A);
        rig.controller.trigger(A);

        rig.controller.reset();

        assertThat(rig.state(A)).isEqualTo(INACTIVE);
        assertThat(rig.lines[A]).isFalse();
        assertThat(rig.controller.counters(A).cancelledByReset()).isEqualTo(1);
        assertThat(rig.controller.counters(A).endedByReset()).isEqualTo(1);
        rig.controller.endOfInterrupt();
        assertThat(rig.controller.counters(A).injections())
                .as("nothing left to inject")
                .isEqualTo(1);
    }

    @Test
    void s09RetriggerOfPendingIrqStaysQueuedOnce() {
        IrqRig rig = IrqRig.withIrqs(2);
        rig.controller.trigger(A);
        rig.controller.trigger(B);
        rig.controller.trigger(B);
        assertThat(rig.state(B)).isEqualTo(PENDING);
        assertThat(rig.lines[B]).isFalse();
        assertThat(rig.controller.pendingQueue()).containsExactly(B);
        rig.controller.endOfInterrupt();
        rig.controller.endOfInterrupt();
        assertThat(rig.controller.counters(B).injections()).isEqualTo(1);
    }

    @Test
    void s10EoiWithNothingActiveChangesNothing() {
        IrqRig rig = IrqRig.withIrqs(2);
        rig.controller.endOfInterrupt();
        assertThat(rig.fastPathChanges).isEmpty();
        assertThat(rig.state(A)).isEqualTo(INACTIVE);
    }

    @Test
    void s11ResetReturnsEverythingToRest() {
        IrqRig rig = IrqRig.withIrqs(2);
        rig.controller.trigger(A);
        rig.controller.trigger(B);
        rig.controller.reset();
        assertThat(rig.state(A)).isEqualTo(INACTIVE);
        assertThat(rig.state(B)).isEqualTo(INACTIVE);
        assertThat(rig.lines).containsExactly(false, false);
        assertThat(rig.controller.pendingQueue()).isEmpty();
        assertThat(rig.timerArmed()).isFalse();
        assertThat(rig.fastPath).isTrue();
        assertThat(rig.controller.counters(B).cancelledByReset()).isEqualTo(1);
        assertThat(rig.controller.counters(A).endedByReset())
                .as("A's injection, in service at the reset")
                .isEqualTo(1);
        assertThat(rig.controller.counters(B).endedByReset())
                .as("B was queued, never injected")
                .isZero();
    }

    @Test
    void s12PreciseEoiLetsTwoIrqsBeActiveAtOnce() {
        IrqRig rig = new IrqRig(
                new boolean[] {false, true},
                new IrqSpec.Ack[] {new IrqSpec.Ack(0, 0x20, 1), new IrqSpec.Ack(0, 0x20, 2)});
        rig.controller.trigger(A);
        rig.controller.trigger(B);
        assertThat(rig.state(A)).isEqualTo(ACTIVE);
        assertThat(rig.state(B)).isEqualTo(ACTIVE);
        assertThat(rig.lines).containsExactly(true, true);
    }

    @Test
    void s13EachPreciseIrqEndsOnlyByItsOwnAck() {
        IrqRig rig = new IrqRig(
                new boolean[] {false, true},
                new IrqSpec.Ack[] {new IrqSpec.Ack(0, 0x20, 1), new IrqSpec.Ack(0, 0x20, 2)});
        rig.controller.trigger(A);
        rig.controller.trigger(B);
        rig.controller.trappedAccess(0, 0x0, false, 0);
        rig.controller.trappedAccess(0, 0x20, true, 0);
        assertThat(rig.state(A)).isEqualTo(ACTIVE);
        assertThat(rig.state(B)).isEqualTo(ACTIVE);
        rig.controller.trappedAccess(0, 0x20, true, 2);
        assertThat(rig.state(B)).isEqualTo(INACTIVE);
        assertThat(rig.lines[B]).isFalse();
        assertThat(rig.unmasked).containsExactly(B);
        assertThat(rig.state(A)).isEqualTo(ACTIVE);
        rig.controller.trappedAccess(0, 0x20, true, 1);
        assertThat(rig.state(A)).isEqualTo(INACTIVE);
    }

    @Test
    void timerAfterLastPreciseAckRestoresFastPath() {
        IrqRig rig = new IrqRig(new boolean[] {false}, new IrqSpec.Ack[] {new IrqSpec.Ack(0, 0x20, 1)});
        rig.controller.trigger(A);
        rig.controller.trappedAccess(0, 0x20, true, 1);
        rig.fireTimers();
        assertThat(rig.fastPath).isTrue();
    }
}
