package io.jvfio.machine.acpi;

import static io.jvfio.machine.acpi.SampleTables.littleEndian;
import static io.jvfio.machine.acpi.SampleTables.table;
import static io.jvfio.machine.acpi.SampleTables.tableAt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AcpiTablesTest {
    private final AcpiTables tables = AcpiTables.build(SampleTables.TWO_VCPUS);

    private static int sum(byte[] bytes) {
        int sum = 0;
        for (byte b : bytes) {
            sum += b;
        }
        return sum & 0xFF;
    }

    @ParameterizedTest
    @ValueSource(strings = {"XSDT", "FACP", "APIC", "DSDT"})
    void everyTableSumsToZero(String signature) {
        assertThat(sum(table(tables, signature))).isZero();
    }

    @Test
    void rsdpChecksumsCoverTheFirstTwentyBytesAndAllThirtySix() {
        byte[] rsdp = Arrays.copyOf(tables.image(), 36);
        assertThat(sum(Arrays.copyOf(rsdp, 20))).isZero();
        assertThat(sum(rsdp)).isZero();
    }

    @Test
    void rsdpIsRevisionTwoInTheBiosAreaOnASixteenByteBoundary() {
        ByteBuffer rsdp = littleEndian(tables.image());
        assertThat(tables.rsdpAddress()).isEqualTo(0xE0000);
        assertThat(new String(tables.image(), 0, 8, StandardCharsets.US_ASCII)).isEqualTo("RSD PTR ");
        assertThat(new String(tables.image(), 9, 6, StandardCharsets.US_ASCII)).isEqualTo("JVFIO ");
        assertThat(rsdp.get(15)).isEqualTo((byte) 2);
        assertThat(rsdp.getInt(16)).as("RSDT address").isZero();
        assertThat(rsdp.getInt(20)).as("length").isEqualTo(36);
        assertThat(rsdp.getLong(24)).as("XSDT address").isEqualTo(tables.tableAddress("XSDT"));
    }

    @Test
    void xsdtPointsAtFadtAndMadtAndFadtAtTheDsdt() {
        ByteBuffer xsdt = littleEndian(table(tables, "XSDT"));
        assertThat(xsdt.capacity()).isEqualTo(36 + 16);
        assertThat(signature(tableAt(tables, xsdt.getLong(36)))).isEqualTo("FACP");
        assertThat(signature(tableAt(tables, xsdt.getLong(44)))).isEqualTo("APIC");
        ByteBuffer fadt = littleEndian(table(tables, "FACP"));
        assertThat(fadt.getInt(40)).as("32-bit DSDT address").isZero();
        assertThat(signature(tableAt(tables, fadt.getLong(140)))).isEqualTo("DSDT");
    }

    @Test
    void tablesFollowTheRsdpAlignedAndEndBelowOneMebibyte() {
        for (String signature : List.of("XSDT", "FACP", "APIC", "DSDT")) {
            long address = tables.tableAddress(signature);
            assertThat(address % 16).as(signature).isZero();
            assertThat(address + table(tables, signature).length).as(signature).isLessThanOrEqualTo(0x100000);
        }
        assertThat(tables.tableAddress("XSDT")).isEqualTo(0xE0030);
        assertThat(tables.rsdpAddress() + tables.image().length)
                .isEqualTo(tables.tableAddress("DSDT") + table(tables, "DSDT").length);
    }

    @Test
    void headersNameJvfioAndTheirOwnLength() {
        for (String signature : List.of("XSDT", "FACP", "APIC", "DSDT")) {
            byte[] table = table(tables, signature);
            assertThat(signature(table)).isEqualTo(signature);
            assertThat(new String(table, 10, 6, StandardCharsets.US_ASCII)).isEqualTo("JVFIO ");
            assertThat(new String(table, 16, 8, StandardCharsets.US_ASCII)).isEqualTo("JVFIOVM ");
            assertThat(new String(table, 28, 4, StandardCharsets.US_ASCII)).isEqualTo("JVFI");
        }
        assertThat(table(tables, "FACP")).hasSize(276);
        assertThat(table(tables, "FACP")[8]).as("FADT revision").isEqualTo((byte) 6);
        assertThat(table(tables, "DSDT")[8])
                .as("DSDT revision (64-bit integers)")
                .isEqualTo((byte) 2);
    }

    @Test
    void fadtIsHardwareReducedWithSleepRegistersAtPorts0x600And0x601() {
        ByteBuffer fadt = littleEndian(table(tables, "FACP"));
        assertThat(fadt.getInt(112)).as("flags").isEqualTo(1 << 20);
        assertThat(fadt.getShort(109))
                .as("IA-PC boot flags: no VGA, no CMOS RTC")
                .isEqualTo((short) 0x24);
        assertThat(fadt.getInt(244))
                .as("sleep control GAS: I/O, 8 bits, byte access")
                .isEqualTo(0x01000801);
        assertThat(fadt.getLong(248)).isEqualTo(0x600);
        assertThat(fadt.getInt(256)).as("sleep status GAS").isEqualTo(0x01000801);
        assertThat(fadt.getLong(260)).isEqualTo(0x601);
    }

    @Test
    void madtHasALocalApicPerVcpuAndTheIoApic() {
        ByteBuffer madt = littleEndian(table(AcpiTables.build(new AcpiConfig(3, List.of())), "APIC"));
        assertThat(madt.capacity()).isEqualTo(44 + 3 * 8 + 12);
        assertThat(madt.getInt(36)).as("LAPIC address").isEqualTo(0xFEE0_0000);
        assertThat(madt.getInt(40)).as("flags: no PC-AT 8259s").isZero();
        for (int cpu = 0; cpu < 3; cpu++) {
            int at = 44 + 8 * cpu;
            assertThat(madt.getShort(at)).as("type 0, length 8").isEqualTo((short) 0x0800);
            assertThat(madt.get(at + 2)).as("processor UID").isEqualTo((byte) cpu);
            assertThat(madt.get(at + 3)).as("APIC ID").isEqualTo((byte) cpu);
            assertThat(madt.getInt(at + 4)).as("enabled").isEqualTo(1);
        }
        int ioapic = 44 + 3 * 8;
        assertThat(madt.getShort(ioapic)).as("type 1, length 12").isEqualTo((short) 0x0C01);
        assertThat(madt.get(ioapic + 2)).as("IOAPIC ID").isZero();
        assertThat(madt.getInt(ioapic + 4)).isEqualTo(0xFEC0_0000);
        assertThat(madt.getInt(ioapic + 8)).as("GSI base").isZero();
    }

    @Test
    void dsdtEndsWithTheS5Package() {
        byte[] dsdt = table(tables, "DSDT");
        byte[] s5 = AmlTermTest.hex("085F53355F" + "1206020A050A05");
        assertThat(Arrays.copyOfRange(dsdt, dsdt.length - s5.length, dsdt.length))
                .containsExactly(s5);
    }

    @Test
    void vcpuCountOutsideEightBitApicIdsIsRefused() {
        assertThatThrownBy(() -> new AcpiConfig(0, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ACPI tables describe 1..255 vCPUs, got 0");
        assertThatThrownBy(() -> new AcpiConfig(256, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ACPI tables describe 1..255 vCPUs, got 256");
    }

    @Test
    void devicesWithTheSameNameAreRefused() {
        assertThatThrownBy(() -> new AcpiConfig(1, List.of(SampleTables.COM1, SampleTables.COM1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("two ACPI devices are named COM1");
    }

    @Test
    void devicesWithTheSameHidAndUidAreRefused() {
        AcpiDevice com2 = AcpiDevice.builder("COM2", HardwareId.eisaId("PNP0501"))
                .io(0x2F8, 8)
                .build();
        assertThatThrownBy(() -> new AcpiConfig(1, List.of(SampleTables.COM1, com2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ACPI devices COM1 and COM2 share _HID PNP0501 and _UID 0");
        AcpiDevice secondCom2 = AcpiDevice.builder("COM2", HardwareId.eisaId("PNP0501"))
                .uid(1)
                .io(0x2F8, 8)
                .build();
        assertThat(new AcpiConfig(1, List.of(SampleTables.COM1, secondCom2)).devices())
                .hasSize(2);
    }

    @Test
    void tablesThatOutgrowTheBiosAreaAreRefused() {
        AcpiDevice huge = AcpiDevice.builder("HUGE", HardwareId.string("PRP0001"))
                .properties(DeviceProperties.compatible("x".repeat(0x20000)))
                .build();
        assertThatThrownBy(() -> AcpiTables.build(new AcpiConfig(1, List.of(huge))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("ACPI tables for 1 vCPUs and 1 devices need 0x")
                .hasMessageEndingWith(" bytes; the BIOS area 0xE0000-0xFFFFF holds 0x20000");
    }

    @Test
    void eisaAndStringFormsOfOneHidAreTheSameHid() {
        AcpiDevice textCom = AcpiDevice.builder("COM2", HardwareId.string("PNP0501"))
                .io(0x2F8, 8)
                .build();
        assertThatThrownBy(() -> new AcpiConfig(1, List.of(SampleTables.COM1, textCom)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ACPI devices COM1 and COM2 share _HID PNP0501 and _UID 0");
    }

    @Test
    void powerOffIsSleepEnableWithTheS5Type() {
        assertThat(AcpiTables.requestsPowerOff(0x34)).isTrue();
        assertThat(AcpiTables.requestsPowerOff(0x14))
                .as("S5 type without SLP_EN")
                .isFalse();
        assertThat(AcpiTables.requestsPowerOff(0x2C))
                .as("SLP_EN with sleep type 3")
                .isFalse();
        assertThat(AcpiTables.requestsPowerOff(0x80)).as("WAK_STS").isFalse();
    }

    @Test
    void unknownSignatureIsRefused() {
        assertThatThrownBy(() -> tables.tableAddress("HPET"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("no ACPI table HPET; there are ");
    }

    private static String signature(byte[] table) {
        return new String(table, 0, 4, StandardCharsets.US_ASCII);
    }
}
