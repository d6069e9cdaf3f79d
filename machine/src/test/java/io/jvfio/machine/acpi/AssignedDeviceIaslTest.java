package io.jvfio.machine.acpi;

import static io.jvfio.machine.acpi.SampleTables.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.acpi.ResourceDescriptor.ExtendedInterrupt.Trigger;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Assigned platform devices in the DSDT, named after their compatible strings as {@link CompatibleIds}
 * says, disassembled by {@code iasl -d}: what Linux's ACPI scan reads before 8250_pnp or virtio_mmio
 * binds them.
 */
class AssignedDeviceIaslTest {
    /** A served ns16550a as the platform bus places it: first page of the window, first GSI, level. */
    private static final AcpiDevice UART = CompatibleIds.describe("VF00", List.of("ns16550a"), Optional.empty())
            .uid(1)
            .mmio(0xD000_0000L, 0x1000)
            .interrupt(16, Trigger.LEVEL)
            .build();

    private static final AcpiDevice VIRTIO = CompatibleIds.describe("VF01", List.of("virtio,mmio"), Optional.empty())
            .mmio(0xD000_1000L, 0x200)
            .interrupt(17, Trigger.LEVEL)
            .build();
    private static final AcpiDevice OTHER = CompatibleIds.describe(
                    "VF02", List.of("jvfio,test-device"), Optional.empty())
            .mmio(0xD000_2000L, 0x1000)
            .mmio(0xD001_0000L, 0x10000)
            .interrupt(18, Trigger.EDGE)
            .interrupt(19, Trigger.LEVEL)
            .build();

    @Test
    void compatiblesWithAKnownDriverGetItsIdAndTheRestPrp0001WithTheirCompatible() {
        assertThat(UART.hardwareId()).isEqualTo(HardwareId.eisaId("PNP0501"));
        assertThat(UART.properties()).isEmpty();
        assertThat(VIRTIO.hardwareId()).isEqualTo(HardwareId.string("LNRO0005"));
        assertThat(VIRTIO.properties()).isEmpty();
        assertThat(OTHER.hardwareId().id()).isEqualTo("PRP0001");
        assertThat(OTHER.properties()).contains(DeviceProperties.compatible("jvfio,test-device"));
    }

    @Test
    void theFirstCompatibleWithAKnownIdWinsAndPrp0001NamesTheFirstCompatible() {
        AcpiDevice specific = CompatibleIds.describe("VF00", List.of("vendor,uart", "ns16550a"), Optional.empty())
                .build();
        assertThat(specific.hardwareId()).isEqualTo(HardwareId.eisaId("PNP0501"));

        AcpiDevice unknown = CompatibleIds.describe("VF00", List.of("vendor,thing", "vendor,generic"), Optional.empty())
                .build();
        assertThat(unknown.properties()).contains(DeviceProperties.compatible("vendor,thing"));
    }

    @Test
    void aUserGivenHidReplacesTheChosenOneAndPrp0001StillGetsTheCompatible() {
        AcpiDevice user = CompatibleIds.describe(
                        "VF00", List.of("ns16550a"), Optional.of(HardwareId.string("ACPI0099")))
                .build();
        AcpiDevice prp = CompatibleIds.describe("VF00", List.of("ns16550a"), Optional.of(HardwareId.string("PRP0001")))
                .build();

        assertThat(user.hardwareId().id()).isEqualTo("ACPI0099");
        assertThat(user.properties()).isEmpty();
        assertThat(prp.properties()).contains(DeviceProperties.compatible("ns16550a"));
    }

    @Test
    void aDeviceWithoutCompatibleIsRefused() {
        assertThatThrownBy(() -> CompatibleIds.describe("VF00", List.of(), Optional.empty()))
                .hasMessage("VF00: a device needs a compatible string to be described in ACPI");
    }

    @Test
    void theDsdtDisassemblesToOneDevicePerAssignedDeviceBesideCom1() throws Exception {
        Iasl.assumeInstalled();
        AcpiTables tables = AcpiTables.build(new AcpiConfig(1, List.of(SampleTables.COM1, UART, VIRTIO, OTHER)));

        Iasl.Result result = Iasl.disassemble(table(tables, "DSDT"));

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.dsl()).doesNotContain("****");
        assertThat(Iasl.meaningfulLines(result.dsl()))
                .containsSubsequence(
                        "Device (COM1)",
                        "Name (_HID, EisaId (\"PNP0501\"))",
                        "Device (VF00)",
                        "Name (_HID, EisaId (\"PNP0501\"))",
                        "Name (_UID, One)",
                        "Name (_CCA, One)",
                        "Memory32Fixed (ReadWrite,",
                        "0xD0000000,",
                        "0x00001000,",
                        ")",
                        "Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )",
                        "{",
                        "0x00000010,",
                        "}",
                        "Device (VF01)",
                        "Name (_HID, \"LNRO0005\")",
                        "Name (_UID, Zero)",
                        "Name (_CCA, One)",
                        "Memory32Fixed (ReadWrite,",
                        "0xD0001000,",
                        "0x00000200,",
                        ")",
                        "Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )",
                        "{",
                        "0x00000011,",
                        "}",
                        "Device (VF02)",
                        "Name (_HID, \"PRP0001\")",
                        "Memory32Fixed (ReadWrite,",
                        "0xD0002000,",
                        "0x00001000,",
                        ")",
                        "Memory32Fixed (ReadWrite,",
                        "0xD0010000,",
                        "0x00010000,",
                        ")",
                        "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )",
                        "{",
                        "0x00000012,",
                        "}",
                        "Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )",
                        "{",
                        "0x00000013,",
                        "}",
                        "Name (_DSD, Package (0x02)",
                        "\"compatible\",",
                        "\"jvfio,test-device\"");
        Iasl.Result compiled = Iasl.compile(result.dsl());
        assertThat(compiled.output()).contains("Compilation successful. 0 Errors, 0 Warnings");
    }
}
