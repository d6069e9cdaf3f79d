package io.jvfio.machine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.irqchip.IrqchipMode;
import org.junit.jupiter.api.Test;

class IrqchipSelectionTest {
    @Test
    void autoOffWithoutAProbeSaysWhyWithoutEmptyEvidence() {
        IrqchipSelection selection =
                new IrqchipSelection(IrqchipMode.AUTO, false, "KVM offers no in-kernel irqchip", "");

        assertThat(selection.autoOffLine())
                .isEqualTo("kernel-irqchip=auto chose off, jvfio's own irqchip: KVM offers no in-kernel irqchip");
    }

    @Test
    void autoOffAfterTheProbeGivesItsEvidence() {
        IrqchipSelection selection = new IrqchipSelection(
                IrqchipMode.AUTO, false, "the in-kernel irqchip ends interrupts at delivery", "LAPIC ISR 0");

        assertThat(selection.autoOffLine())
                .isEqualTo("kernel-irqchip=auto chose off, jvfio's own irqchip: the in-kernel irqchip ends"
                        + " interrupts at delivery (LAPIC ISR 0)");
        assertThat(selection)
                .hasToString("kernel-irqchip=off (auto: the in-kernel irqchip ends interrupts at delivery)");
    }
}
