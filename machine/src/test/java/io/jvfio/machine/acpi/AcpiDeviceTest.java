package io.jvfio.machine.acpi;

import static io.jvfio.machine.acpi.AmlTermTest.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.acpi.ResourceDescriptor.ExtendedInterrupt.Trigger;
import org.junit.jupiter.api.Test;

class AcpiDeviceTest {
    @Test
    void serialPortBecomesADeviceWithHidUidCcaAndCrs() {
        assertThat(SampleTables.COM1.toAml().encode())
                .containsExactly(hex("5B8237" + "434F4D31"
                        + "085F484944" + "0C41D00501"
                        + "085F554944" + "00"
                        + "085F434341" + "01"
                        + "085F435253" + "1116" + "0A13" + "4701F803F8030008" + "890600010104000000" + "79AC"));
    }

    @Test
    void nameLongerThanFourCharactersIsRefused() {
        assertThatThrownBy(() -> AcpiDevice.builder("SERIAL", HardwareId.eisaId("PNP0501"))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ACPI name segment \"SERIAL\" is longer than 4 characters");
    }

    @Test
    void shortNameIsPaddedAndReservedNamesAreRefused() {
        assertThat(AcpiDevice.builder("UAR", HardwareId.eisaId("PNP0501"))
                        .build()
                        .name())
                .isEqualTo("UAR_");
        assertThatThrownBy(() ->
                        AcpiDevice.builder("_SB", HardwareId.eisaId("PNP0501")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ACPI device name \"_SB_\" starts with _, which ACPI reserves");
    }

    @Test
    void gsiPastTheIoapicPinsIsRefused() {
        AcpiDevice.Builder builder = AcpiDevice.builder("COM1", HardwareId.eisaId("PNP0501"));
        assertThatThrownBy(() -> builder.interrupt(24, Trigger.LEVEL))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("GSI 24 is not an IOAPIC pin (0-23)");
        assertThatThrownBy(() -> builder.interrupt(256, Trigger.EDGE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("GSI 256 is not an IOAPIC pin (0-23)");
    }

    @Test
    void mmioAboveFourGibibytesIsRefused() {
        AcpiDevice.Builder builder = AcpiDevice.builder("VF00", HardwareId.string("PRP0001"));
        assertThatThrownBy(() -> builder.mmio(0x1_0000_0000L, 0x1000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Memory32Fixed 0x100000000 (0x1000 bytes) does not lie below 4 GiB");
        assertThatThrownBy(() -> builder.mmio(0xD000_0000L, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("MMIO range at 0xd0000000 has size 0");
    }

    @Test
    void portRangePastSixtyFourKibibytesIsRefused() {
        assertThatThrownBy(() ->
                        AcpiDevice.builder("COM1", HardwareId.eisaId("PNP0501")).io(0xFFFC, 8))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port range 0xfffc (8 ports) must hold 1..255 ports below 0x10000");
    }

    @Test
    void prp0001WithoutCompatibleIsRefused() {
        assertThatThrownBy(() ->
                        AcpiDevice.builder("VF00", HardwareId.string("PRP0001")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("VF00: _HID PRP0001 needs a compatible property in its _DSD");
    }

    @Test
    void malformedStringHidIsRefused() {
        assertThatThrownBy(() -> HardwareId.string("prp0001"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("_HID \"prp0001\" is neither a PNP ID (AAA####) nor an ACPI ID (NNNN####), # a hex digit");
        assertThat(HardwareId.string("ACPI0007").toAml()).isEqualTo(new Aml.StringConst("ACPI0007"));
    }
}
