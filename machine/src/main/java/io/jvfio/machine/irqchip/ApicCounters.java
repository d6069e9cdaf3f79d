package io.jvfio.machine.irqchip;

/**
 * One LAPIC of jvfio's irqchip: interrupts it accepted into IRR, those the vCPU took (KVM_INTERRUPT), the
 * guest's EOIs, timer expiries, interrupt-window exits asked of KVM, and kicks of a vCPU that was running
 * the guest when an interrupt arrived.
 */
public record ApicCounters(
        int vcpu,
        long accepted,
        long injected,
        long endsOfInterrupt,
        long timerFires,
        long windowRequests,
        long kicks) {}
