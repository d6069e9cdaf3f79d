package io.jvfio.platform.irq;

/** The states of one IRQ on the user-side path, as QEMU's platform code names them. */
public enum IrqState {
    /** Not signalled, or handled by the guest. */
    INACTIVE,
    /** Injected: the guest line is high until the guest's EOI. */
    ACTIVE,
    /** Signalled while another IRQ was ACTIVE: queued for injection after that one's EOI. */
    PENDING
}
