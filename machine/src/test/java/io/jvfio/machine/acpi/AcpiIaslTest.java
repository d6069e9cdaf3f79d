package io.jvfio.machine.acpi;

import static io.jvfio.machine.acpi.SampleTables.table;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The tables as ACPICA reads them: {@code iasl -d} disassembles each, and the lines that carry meaning
 * must say what the tables were built to say. ACPICA is also what Linux parses the tables with.
 */
class AcpiIaslTest {
    private final AcpiTables tables = AcpiTables.build(SampleTables.TWO_VCPUS);

    @BeforeEach
    void needsIasl() {
        Iasl.assumeInstalled();
    }

    private static Iasl.Result disassemble(byte[] table) throws Exception {
        Iasl.Result result = Iasl.disassemble(table);
        assertThat(result.exitCode()).as(result.output()).isZero();
        // ACPICA marks structures it could not read with "****" (e.g. a table that ends too early).
        assertThat(result.dsl()).as("disassembly").isNotEmpty().doesNotContain("****");
        return result;
    }

    @Test
    void dsdtDisassemblesToTheDevicesAndS5() throws Exception {
        Iasl.Result result = disassemble(table(tables, "DSDT"));
        assertThat(Iasl.meaningfulLines(result.dsl()))
                .containsSubsequence(
                        "DefinitionBlock (\"\", \"DSDT\", 2, \"JVFIO \", \"JVFIOVM \", 0x00000001)",
                        "Scope (\\_SB)",
                        "Device (COM1)",
                        "Name (_HID, EisaId (\"PNP0501\"))",
                        "Name (_UID, Zero)",
                        "Name (_CCA, One)",
                        "Name (_CRS, ResourceTemplate ()",
                        "IO (Decode16,",
                        "0x03F8,",
                        "0x03F8,",
                        "0x00,",
                        "0x08,",
                        ")",
                        "Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )",
                        "{",
                        "0x00000004,",
                        "}",
                        "Device (VF00)",
                        "Name (_HID, \"PRP0001\")",
                        "Memory32Fixed (ReadWrite,",
                        "0xD0000000,",
                        "0x00001000,",
                        ")",
                        "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )",
                        "{",
                        "0x00000010,",
                        "}",
                        "Name (_DSD, Package (0x02)",
                        "ToUUID (\"daffd814-6eba-4d8c-8a91-bc9bbf4aa301\"),",
                        "\"compatible\",",
                        "\"jvfio,test-device\"",
                        "Name (_S5, Package (0x02)",
                        "0x05,",
                        "0x05");
    }

    @Test
    void dsdtDisassemblyCompilesBackWithoutErrors() throws Exception {
        Iasl.Result compiled = Iasl.compile(disassemble(table(tables, "DSDT")).dsl());
        assertThat(compiled.exitCode()).as(compiled.output()).isZero();
        assertThat(compiled.output()).contains("Compilation successful. 0 Errors, 0 Warnings");
    }

    @Test
    void fadtDisassemblesAsHardwareReducedWithSleepRegisters() throws Exception {
        Iasl.Result result = disassemble(table(tables, "FACP"));
        String dsdt = String.format("%016X", tables.tableAddress("DSDT"));
        assertThat(Iasl.meaningfulLines(result.dsl()))
                .containsSubsequence(
                        "Signature : \"FACP\" [Fixed ACPI Description Table (FADT)]",
                        "Revision : 06",
                        "Oem ID : \"JVFIO \"",
                        "FACS Address : 00000000",
                        "SCI Interrupt : 0000",
                        "Boot Flags (decoded below) : 0024",
                        "8042 Present on ports 60/64 (V2) : 0",
                        "VGA Not Present (V4) : 1",
                        "CMOS RTC Not Present (V5) : 1",
                        "Flags (decoded below) : 00100000",
                        "Hardware Reduced (V5) : 1",
                        "FADT Minor Revision : 05",
                        "DSDT Address : " + dsdt,
                        "Sleep Control Register : [Generic Address Structure]",
                        "Space ID : 01 [SystemIO]",
                        "Bit Width : 08",
                        "Bit Offset : 00",
                        "Encoded Access Width : 01 [Byte Access:8]",
                        "Address : 0000000000000600",
                        "Sleep Status Register : [Generic Address Structure]",
                        "Space ID : 01 [SystemIO]",
                        "Bit Width : 08",
                        "Bit Offset : 00",
                        "Encoded Access Width : 01 [Byte Access:8]",
                        "Address : 0000000000000601");
    }

    @Test
    void madtDisassemblesToOneLocalApicPerVcpuAndTheIoApic() throws Exception {
        Iasl.Result result = disassemble(table(tables, "APIC"));
        List<String> lines = Iasl.meaningfulLines(result.dsl());
        assertThat(lines)
                .containsSubsequence(
                        "Signature : \"APIC\" [Multiple APIC Description Table (MADT)]",
                        "Local Apic Address : FEE00000",
                        "Flags (decoded below) : 00000000",
                        "PC-AT Compatibility : 0",
                        "Subtable Type : 00 [Processor Local APIC]",
                        "Processor ID : 00",
                        "Local Apic ID : 00",
                        "Processor Enabled : 1",
                        "Subtable Type : 00 [Processor Local APIC]",
                        "Processor ID : 01",
                        "Local Apic ID : 01",
                        "Processor Enabled : 1",
                        "Subtable Type : 01 [I/O APIC]",
                        "I/O Apic ID : 00",
                        "Address : FEC00000",
                        "Interrupt : 00000000");
        assertThat(lines.stream().filter(line -> line.startsWith("Subtable Type")))
                .hasSize(3);
    }

    @Test
    void xsdtDisassemblesToTheFadtAndMadtAddresses() throws Exception {
        Iasl.Result result = disassemble(table(tables, "XSDT"));
        assertThat(Iasl.meaningfulLines(result.dsl()))
                .containsSubsequence(
                        "Signature : \"XSDT\" [Extended System Description Table]",
                        "ACPI Table Address 0 : " + String.format("%016X", tables.tableAddress("FACP")),
                        "ACPI Table Address 1 : " + String.format("%016X", tables.tableAddress("APIC")));
    }
}
