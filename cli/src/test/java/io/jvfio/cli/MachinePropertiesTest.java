package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.irqchip.IrqchipMode;
import org.junit.jupiter.api.Test;

class MachinePropertiesTest {
    @Test
    void propertiesInQemusSyntaxOverTheDefaults() {
        assertThat(parse("kernel-irqchip=off")).isEqualTo(new MachineProperties(IrqchipMode.OFF, false));
        assertThat(parse("x-coalesced-eoi=on,kernel-irqchip=off"))
                .isEqualTo(new MachineProperties(IrqchipMode.OFF, true));
        assertThat(parse("x-coalesced-eoi=off")).isEqualTo(MachineProperties.DEFAULTS);
        assertThat(MachineProperties.DEFAULTS).isEqualTo(new MachineProperties(IrqchipMode.AUTO, false));
    }

    @Test
    void aWrongKeyOrValueIsNamed() {
        assertThatThrownBy(() -> parse("x-coalesced-eoi=yes"))
                .hasMessage("x-coalesced-eoi must be on or off, not 'yes'");
        assertThatThrownBy(() -> parse("kernel-irqchip=split")).hasMessageContaining("split is not supported");
        assertThatThrownBy(() -> parse("accel=kvm"))
                .hasMessage(
                        "unknown machine property 'accel' (jvfio's machine has kernel-irqchip and x-coalesced-eoi)");
    }

    private static MachineProperties parse(String value) {
        return MachineProperties.parse(value);
    }
}
