package io.jvfio.platform.irq;

/** The guest interrupt line an IRQ drives (an IOAPIC pin through KVM_IRQ_LINE on a real machine). */
public interface GuestLine {
    void set(boolean level);
}
