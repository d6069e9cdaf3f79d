package io.jvfio.sys.kvm;

/**
 * struct kvm_irq_routing_entry of type KVM_IRQ_ROUTING_IRQCHIP: {@code gsi} drives {@code pin} of
 * {@code irqchip} (KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE or KVM_IRQCHIP_IOAPIC).
 */
public record IrqRoute(int gsi, int irqchip, int pin) {}
