package io.jvfio.machine.acpi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ACPI tables of a machine, laid out as one image for guest RAM at {@link #RSDP_ADDRESS}: the RSDP
 * first (so Linux's scan of the BIOS area finds it even without {@code boot_params.acpi_rsdp_addr}), then
 * the XSDT, FADT, MADT and DSDT, each 16-byte aligned. The image must fit below 1 MiB, in the BIOS area
 * 0xE0000-0xFFFFF that Linux always reserves. The caller copies {@link #image()} into guest RAM.
 */
public final class AcpiTables {
    public static final long RSDP_ADDRESS = 0xE0000;
    public static final long BIOS_AREA_END = 0x100000;
    /** FADT SLEEP_CONTROL_REG: a byte port; Linux writes SLP_TYP (bits 2-4) with SLP_EN (bit 5) to sleep. */
    public static final int SLEEP_CONTROL_PORT = 0x600;
    /** FADT SLEEP_STATUS_REG: a byte port; Linux writes WAK_STS (bit 7) to it before sleeping. */
    public static final int SLEEP_STATUS_PORT = 0x601;
    /** The sleep type {@code \_S5} gives, which Linux writes to the control port to power off. */
    static final int S5_SLEEP_TYPE = 5;

    private static final int SLEEP_TYPE_SHIFT = 2;
    private static final int SLEEP_TYPE_MASK = 0x7 << SLEEP_TYPE_SHIFT;
    private static final int SLEEP_ENABLE = 1 << 5;
    private static final int ALIGNMENT = 16;

    private final byte[] image;
    private final Map<String, Long> addresses;

    private AcpiTables(byte[] image, Map<String, Long> addresses) {
        this.image = image;
        this.addresses = addresses;
    }

    public static AcpiTables build(AcpiConfig config) {
        byte[] madt = Madt.build(config.vcpus());
        byte[] dsdt = Dsdt.build(config.devices());
        long xsdtAddress = align(RSDP_ADDRESS + Rsdp.LENGTH);
        long fadtAddress = align(xsdtAddress + Xsdt.length(2));
        long madtAddress = align(fadtAddress + Fadt.LENGTH);
        long dsdtAddress = align(madtAddress + madt.length);
        long end = dsdtAddress + dsdt.length;
        if (end > BIOS_AREA_END) {
            throw new IllegalArgumentException("ACPI tables for " + config.vcpus() + " vCPUs and "
                    + config.devices().size() + " devices need 0x" + Long.toHexString(end - RSDP_ADDRESS)
                    + " bytes; the BIOS area 0xE0000-0xFFFFF holds 0x20000");
        }
        Map<String, Long> addresses = new LinkedHashMap<>();
        addresses.put("RSDP", RSDP_ADDRESS);
        addresses.put("XSDT", xsdtAddress);
        addresses.put("FACP", fadtAddress);
        addresses.put("APIC", madtAddress);
        addresses.put("DSDT", dsdtAddress);
        byte[] image = new byte[(int) (end - RSDP_ADDRESS)];
        place(image, Rsdp.build(xsdtAddress), RSDP_ADDRESS);
        place(image, Xsdt.build(List.of(fadtAddress, madtAddress)), xsdtAddress);
        place(image, Fadt.build(dsdtAddress), fadtAddress);
        place(image, madt, madtAddress);
        place(image, dsdt, dsdtAddress);
        return new AcpiTables(image, Collections.unmodifiableMap(addresses));
    }

    /** Where the RSDP is: {@code boot_params.acpi_rsdp_addr}, and the start of {@link #image()}. */
    public long rsdpAddress() {
        return RSDP_ADDRESS;
    }

    /** The bytes to copy into guest RAM at {@link #rsdpAddress()}; gaps between tables are zero. */
    public byte[] image() {
        return image.clone();
    }

    /** The guest-physical address of the table with this signature (FACP, APIC, DSDT, XSDT) or of the RSDP. */
    public long tableAddress(String signature) {
        Long address = addresses.get(signature);
        if (address == null) {
            throw new IllegalArgumentException("no ACPI table " + signature + "; there are " + addresses.keySet());
        }
        return address;
    }

    /**
     * Whether a byte written to {@link #SLEEP_CONTROL_PORT} asks to power off: SLP_EN set and SLP_TYP the
     * S5 type (0x34; ACPI 6.5 section 4.8.3.7).
     */
    public static boolean requestsPowerOff(int sleepControlWrite) {
        return (sleepControlWrite & SLEEP_ENABLE) != 0
                && (sleepControlWrite & SLEEP_TYPE_MASK) >> SLEEP_TYPE_SHIFT == S5_SLEEP_TYPE;
    }

    private static long align(long address) {
        return (address + ALIGNMENT - 1) & -ALIGNMENT;
    }

    private static void place(byte[] image, byte[] table, long address) {
        System.arraycopy(table, 0, image, (int) (address - RSDP_ADDRESS), table.length);
    }
}
