package io.jvfio.platform.irq;

/**
 * The guest interrupt line an IRQ drives: an IOAPIC pin, through KVM_IRQ_LINE or on jvfio's own irqchip.
 * jvfio's irqchip also tells when the guest has ended the interrupt the line delivered (its EOI), which
 * lets a level IRQ be unmasked at the device only then, as KVM's resamplefd does.
 */
public interface GuestLine {
    void set(boolean level);

    /** Whether the guest's EOIs of this line are seen ({@link IrqController#guestEndOfInterrupt} is called). */
    default boolean observesEndOfInterrupt() {
        return false;
    }

    /** Whether an interrupt this line delivered is still in service in the guest (no EOI yet). */
    default boolean inService() {
        return false;
    }
}
