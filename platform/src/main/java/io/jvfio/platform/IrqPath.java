package io.jvfio.platform;

/** How an IRQ reaches the guest. */
public enum IrqPath {
    /** KVM irqfd on the IRQ's GSI (+ resamplefd as the device's unmask eventfd for level IRQs): no exits. */
    IRQFD,
    /** The trigger eventfd is handled on the event loop by the INACTIVE/ACTIVE/PENDING state machine. */
    USER_SIDE
}
