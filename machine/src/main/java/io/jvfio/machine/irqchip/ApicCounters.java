package io.jvfio.machine.irqchip;

/**
 * One LAPIC of jvfio's irqchip: interrupts it accepted into IRR, those the vCPU took (KVM_INTERRUPT), the
 * guest's EOIs, timer expiries, interrupt-window exits asked of KVM, the runs among those that also
 * ended on their own every so often to look at the window again ({@link WindowLooks}), kicks of a vCPU
 * that was running the guest when an interrupt arrived, its halts in user space (the guest's {@code hlt} exits, which KVM's
 * in-kernel irqchip keeps in the kernel; a vCPU other than 0 also starts halted), and those of them that
 * had to wait for an interrupt (a halt that finds one already deliverable returns at once), and the EOI
 * writes that came queued in KVM's coalesced MMIO ring instead of as exits (counted among the EOIs too),
 * the drains of that ring the clock made because a queued EOI could matter, and those of them that found
 * one (an EOI the guest wrote and then ran on without an exit).
 */
public record ApicCounters(
        int vcpu,
        long accepted,
        long injected,
        long endsOfInterrupt,
        long timerFires,
        long windowRequests,
        long windowLookedRuns,
        long kicks,
        long halts,
        long haltWaits,
        long queuedEndsOfInterrupt,
        long drainTicks,
        long drainTickFinds) {}
