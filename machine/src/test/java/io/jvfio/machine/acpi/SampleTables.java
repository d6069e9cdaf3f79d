package io.jvfio.machine.acpi;

import io.jvfio.machine.acpi.ResourceDescriptor.ExtendedInterrupt.Trigger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/** The machine the table tests describe, and reading its tables back out of the image. */
final class SampleTables {
    /** COM1 as the Linux loader describes it: PNP0501, ports 0x3F8-0x3FF, IRQ 4 level-triggered. */
    static final AcpiDevice COM1 = AcpiDevice.builder("COM1", HardwareId.eisaId("PNP0501"))
            .io(0x3F8, 8)
            .interrupt(4, Trigger.LEVEL)
            .build();
    /** A platform device as the PlatformBus places it: first page of the window, first GSI, matched by compatible. */
    static final AcpiDevice PLATFORM_DEVICE = AcpiDevice.builder("VF00", HardwareId.string("PRP0001"))
            .mmio(0xD000_0000L, 0x1000)
            .interrupt(16, Trigger.EDGE)
            .properties(DeviceProperties.compatible("jvfio,test-device"))
            .build();

    static final AcpiConfig TWO_VCPUS = new AcpiConfig(2, List.of(COM1, PLATFORM_DEVICE));

    private SampleTables() {}

    /** The bytes of the table at {@code address}, as long as its header says. */
    static byte[] tableAt(AcpiTables tables, long address) {
        byte[] image = tables.image();
        int offset = (int) (address - tables.rsdpAddress());
        int length = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).getInt(offset + 4);
        return Arrays.copyOfRange(image, offset, offset + length);
    }

    static byte[] table(AcpiTables tables, String signature) {
        return tableAt(tables, tables.tableAddress(signature));
    }

    static ByteBuffer littleEndian(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
