package io.jvfio.platform.irq;

import java.util.Optional;

/**
 * One IRQ of a device on the user-side path: its state, its guest line, its unmask at the device and its
 * counters. What involves several IRQs (the pending queue, the one ACTIVE IRQ without precise EOI, the
 * fast path and the mmap timer) is the {@link IrqController}'s, whose lock guards this object too.
 */
final class PlatformIrq {
    private final IrqSpec spec;
    private final IrqUnmasker unmasker;
    private final IrqListener listener;
    private IrqState state = IrqState.INACTIVE;
    /** A level IRQ ended while its delivery was still in service in the guest: unmask it at the guest's EOI. */
    private boolean unmaskAtGuestEoi;

    private long signals;
    private long triggers;
    private long injections;
    private long coalesced;
    private long eois;
    private long unmasks;
    private long cancelledByReset;
    private long endedByReset;

    PlatformIrq(IrqSpec spec, IrqUnmasker unmasker, IrqListener listener) {
        this.spec = spec;
        this.unmasker = unmasker;
        this.listener = listener;
    }

    int index() {
        return spec.index();
    }

    IrqState state() {
        return state;
    }

    Optional<IrqSpec.Ack> ack() {
        return spec.ack();
    }

    /** Whether the IRQ ends only by its declared ack, and may be ACTIVE beside others. */
    boolean hasPreciseEoi() {
        return spec.ack().isPresent();
    }

    /**
     * Counts a trigger and keeps it if the IRQ is already injected or queued: an ACTIVE edge IRQ
     * remembers it for after its EOI, anything else coalesces it.
     *
     * @param signals the device's writes to the trigger eventfd that this read found
     * @return whether the IRQ was INACTIVE, so the controller must inject or queue it
     */
    boolean trigger(long signals) {
        this.signals += signals;
        triggers++;
        if (state == IrqState.INACTIVE) {
            return true;
        }
        if (state == IrqState.ACTIVE && !spec.automasked()) {
            moveTo(IrqState.ACTIVE_FIRED_AGAIN);
            return false;
        }
        coalesced++;
        listener.coalesced(index(), state);
        return false;
    }

    void queue() {
        moveTo(IrqState.PENDING);
    }

    /**
     * The first half of an injection; the controller turns the fast path off before {@link #raiseLine}, so
     * that the guest's first access to the device once it sees the interrupt traps.
     */
    void activate() {
        moveTo(IrqState.ACTIVE);
    }

    void raiseLine(boolean fromPending) {
        injections++;
        spec.line().set(true);
        listener.injected(index(), fromPending);
    }

    /**
     * The IRQ's EOI: INACTIVE with its line low, and, if automasked, unmasked at the device now or, while
     * its delivery is still in service in the guest (jvfio's irqchip), at the guest's EOI.
     *
     * @return whether it fired again while ACTIVE, so the controller must inject or queue it again
     */
    boolean end(boolean precise) {
        boolean firedAgain = state == IrqState.ACTIVE_FIRED_AGAIN;
        moveTo(IrqState.INACTIVE);
        spec.line().set(false);
        eois++;
        listener.endOfInterrupt(index(), precise);
        if (spec.automasked()) {
            GuestLine line = spec.line();
            if (line.observesEndOfInterrupt() && line.inService()) {
                unmaskAtGuestEoi = true;
            } else {
                unmask();
            }
        }
        return firedAgain;
    }

    /** The guest's EOI of the IRQ's line: the unmask that waited for it, if one did. */
    void guestEndOfInterrupt() {
        if (unmaskAtGuestEoi) {
            unmaskAtGuestEoi = false;
            unmask();
        }
    }

    private void unmask() {
        unmasker.unmask(index());
        unmasks++;
        listener.unmasked(index());
    }

    /**
     * Machine reset: {@link #stop}, and an automasked IRQ that fired and was not unmasked since is unmasked
     * at the device: neither kernel VFIO's device reset nor a vfio-user DEVICE_RESET clears VFIO's automask,
     * and the guest whose EOI would have is gone. A device that still asserts its line then fires again.
     */
    void reset() {
        boolean masked = spec.automasked() && (state != IrqState.INACTIVE || unmaskAtGuestEoi);
        stop();
        if (masked) {
            unmask();
        }
    }

    /**
     * INACTIVE with the line low, nothing sent to the device (a reset's first half, or the device's end); an
     * injection still in service counts as ended by the reset, a queued trigger and one remembered while
     * ACTIVE as cancelled, and an unmask waiting for the guest's EOI is dropped.
     */
    void stop() {
        if (state.injected()) {
            spec.line().set(false);
            endedByReset++;
        }
        if (state == IrqState.PENDING || state == IrqState.ACTIVE_FIRED_AGAIN) {
            cancelledByReset++;
        }
        unmaskAtGuestEoi = false;
        if (state != IrqState.INACTIVE) {
            moveTo(IrqState.INACTIVE);
        }
    }

    private void moveTo(IrqState to) {
        IrqState from = state;
        state = to;
        listener.stateChanged(index(), from, to);
    }

    IrqController.IrqCounters counters() {
        return new IrqController.IrqCounters(
                signals, triggers, injections, coalesced, eois, unmasks, cancelledByReset, endedByReset);
    }
}
