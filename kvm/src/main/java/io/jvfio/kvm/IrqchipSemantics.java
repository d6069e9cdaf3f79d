package io.jvfio.kvm;

import java.time.Duration;
import java.util.Locale;

/**
 * What {@link IrqchipProbe} found out about this host's in-kernel irqchip by running a guest: whether an
 * interrupt stays in service until the guest's EOI, as KVM documents, or EOI side effects happen when the
 * vCPU takes the interrupt (the software KVM of {@code kvm_pvm}), or that the probe could not tell.
 *
 * @param verdict  the answer
 * @param evidence one line: the observed next to the documented values, or why the probe failed
 * @param elapsed  how long the probe took, opening /dev/kvm to closing the VM
 */
public record IrqchipSemantics(Verdict verdict, String evidence, Duration elapsed) {
    public enum Verdict {
        /**
         * As documented: at the handler's first instruction the LAPIC has the vector in service, a level
         * pin's remote IRR is set and its resamplefd has not fired; all three wait for the guest's EOI.
         */
        EXACT("exact"),
        /**
         * Some EOI side effect happened before the guest wrote any EOI: the LAPIC's in-service bit was
         * already clear, the remote IRR already clear, or the resamplefd already fired. A level interrupt
         * through this irqchip can then be delivered more than once per assertion.
         */
        EOI_AT_DELIVERY("EOI at delivery"),
        /** The probe could not run to the end (no KVM, no irqchip, irqfd refused, no delivery in time). */
        PROBE_FAILED("probe failed");

        private final String label;

        Verdict(String label) {
            this.label = label;
        }

        /** Lower-case words for a line of output, e.g. {@code EOI at delivery}. */
        public String label() {
            return label;
        }
    }

    /** True only when the probe saw every documented value: jvfio can then rely on KVM's irqchip. */
    public boolean keepsInServiceUntilEoi() {
        return verdict == Verdict.EXACT;
    }

    /** One line: {@code in-kernel irqchip VERDICT: EVIDENCE [N.NN ms]}. */
    @Override
    public String toString() {
        return String.format(
                Locale.ROOT, "in-kernel irqchip %s: %s [%.2f ms]", verdict.label(), evidence, elapsed.toNanos() / 1e6);
    }
}
