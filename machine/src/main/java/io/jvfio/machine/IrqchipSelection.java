package io.jvfio.machine;

import io.jvfio.kvm.Cap;
import io.jvfio.kvm.IrqchipProbe;
import io.jvfio.kvm.IrqchipSemantics;
import io.jvfio.kvm.Kvm;
import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.sys.ErrnoException;
import java.io.IOException;

/**
 * The irqchip a machine uses: {@code requested} is the {@code kernel-irqchip} property, {@code inKernel}
 * what it resolved to (KVM's in-kernel IOAPIC and LAPICs, or jvfio's own), {@code reason} a few words
 * saying why, for headers, and {@code evidence} what the probe behind auto saw (empty otherwise), for the
 * log line that explains the choice.
 */
public record IrqchipSelection(IrqchipMode requested, boolean inKernel, String reason, String evidence) {
    /** The property value the machine runs with: on or off. */
    public String effective() {
        return inKernel ? "on" : "off";
    }

    @Override
    public String toString() {
        return "kernel-irqchip=" + effective() + (requested == IrqchipMode.AUTO ? " (auto: " + reason + ")" : "");
    }

    /** The one info line that explains auto's choice of jvfio's irqchip: the reason, then the evidence if any. */
    String autoOffLine() {
        return "kernel-irqchip=auto chose off, jvfio's own irqchip: " + reason
                + (evidence.isEmpty() ? "" : " (" + evidence + ")");
    }

    /**
     * What a machine created now with {@code requested} runs on (the probe behind auto runs once per
     * process), for a report's header before any machine exists.
     */
    public static IrqchipSelection forHost(IrqchipMode requested) throws IOException {
        try (Kvm kvm = Kvm.open()) {
            return choose(requested, kvm);
        }
    }

    /** What a machine on {@code kvm} runs on when {@code requested}; auto asks the (cached) probe. */
    public static IrqchipSelection choose(IrqchipMode requested, Kvm kvm) throws ErrnoException {
        return switch (requested) {
            case ON -> new IrqchipSelection(requested, true, "requested", "");
            case OFF -> new IrqchipSelection(requested, false, "requested", "");
            case SPLIT ->
                throw new IllegalArgumentException("kernel-irqchip=split is not supported: use on, off or auto");
            case AUTO -> {
                if (!kvm.hasCapability(Cap.IRQCHIP)) {
                    yield new IrqchipSelection(requested, false, "KVM offers no in-kernel irqchip", "");
                }
                IrqchipSemantics semantics = IrqchipProbe.host();
                yield switch (semantics.verdict()) {
                    case EXACT ->
                        new IrqchipSelection(
                                requested,
                                true,
                                "the in-kernel irqchip keeps interrupts in service until EOI",
                                semantics.evidence());
                    case EOI_AT_DELIVERY ->
                        new IrqchipSelection(
                                requested,
                                false,
                                "the in-kernel irqchip ends interrupts at delivery",
                                semantics.evidence());
                    case PROBE_FAILED ->
                        new IrqchipSelection(requested, false, "the irqchip probe failed", semantics.evidence());
                };
            }
        };
    }
}
