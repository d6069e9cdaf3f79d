package io.jvfio.platform.irq;

/**
 * The states of one IRQ on the user-side path: the three QEMU's platform code names, and the one jvfio
 * adds for an edge that fires again while the guest handles the last (docs/irq-state-machine.md, row 8).
 */
public enum IrqState {
    /** Not signalled, or handled by the guest. */
    INACTIVE,
    /** Injected: the guest line is high until the guest's EOI. */
    ACTIVE,
    /**
     * ACTIVE, and the IRQ (an edge) fired again before its EOI: at the EOI its line is lowered and it is
     * injected again, queued behind the PENDING IRQs unless it has precise EOI. A further fire is coalesced.
     */
    ACTIVE_FIRED_AGAIN,
    /** Signalled while another IRQ was ACTIVE: queued for injection after that one's EOI. */
    PENDING;

    /** Whether the IRQ is injected: its guest line is high until its EOI. */
    public boolean injected() {
        return this == ACTIVE || this == ACTIVE_FIRED_AGAIN;
    }
}
