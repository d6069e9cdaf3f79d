package io.jvfio.machine.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The boot-info struct a guest finds at RDI (guests/lib/bootinfo.h), little-endian, natural alignment:
 * <pre>
 * struct jvfio_device { char compatible[32]; uint32_t region_count, irq_count;
 *                       uint64_t region_base[8], region_size[8]; uint32_t irq_gsi[8]; };      // 200 bytes
 * struct jvfio_boot_info { uint64_t magic, ram_size, dtb_addr, dtb_size, args[8];
 *                          uint32_t device_count, reserved; struct jvfio_device devices[8]; }; // 1704 bytes
 * </pre>
 */
public final class BootInfo {
    public static final long JVFIO_BOOT_MAGIC = 0x4f4946564aL;
    public static final int MAX_DEVICES = 8;
    public static final int MAX_REGIONS = 8;
    public static final int MAX_IRQS = 8;
    public static final int MAX_ARGS = 8;
    public static final int COMPATIBLE_BYTES = 32;

    public static final int DEVICE_SIZE = 200;
    public static final int DEVICE_COMPATIBLE = 0;
    public static final int DEVICE_REGION_COUNT = 32;
    public static final int DEVICE_IRQ_COUNT = 36;
    public static final int DEVICE_REGION_BASE = 40;
    public static final int DEVICE_REGION_SIZE = 104;
    public static final int DEVICE_IRQ_GSI = 168;

    public static final int SIZE = 1704;
    public static final int MAGIC = 0;
    public static final int RAM_SIZE = 8;
    public static final int DTB_ADDR = 16;
    public static final int DTB_SIZE = 24;
    public static final int ARGS = 32;
    public static final int DEVICE_COUNT = 96;
    public static final int RESERVED = 100;
    public static final int DEVICES = 104;

    /** A guest-physical range of a device. */
    public record Region(long base, long size) {}

    /** What a guest learns about one device: its compatible string, regions and GSIs (IOAPIC pins). */
    public record Device(String compatible, List<Region> regions, List<Integer> gsis) {
        public Device {
            regions = List.copyOf(regions);
            gsis = List.copyOf(gsis);
            byte[] name = compatible.getBytes(StandardCharsets.US_ASCII);
            if (name.length >= COMPATIBLE_BYTES) {
                throw new IllegalArgumentException(
                        "compatible \"" + compatible + "\" is longer than " + (COMPATIBLE_BYTES - 1) + " bytes");
            }
            if (regions.size() > MAX_REGIONS || gsis.size() > MAX_IRQS) {
                throw new IllegalArgumentException(compatible + ": at most " + MAX_REGIONS + " regions and " + MAX_IRQS
                        + " IRQs, got " + regions.size() + " and " + gsis.size());
            }
        }
    }

    private BootInfo() {}

    /** Encodes the struct; the DTB fields stay 0. {@code args} may be shorter than 8 (the rest are 0). */
    public static byte[] encode(long ramSize, long[] args, List<Device> devices) {
        if (args.length > MAX_ARGS) {
            throw new IllegalArgumentException("at most " + MAX_ARGS + " guest args, got " + args.length);
        }
        if (devices.size() > MAX_DEVICES) {
            throw new IllegalArgumentException("at most " + MAX_DEVICES + " devices, got " + devices.size());
        }
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(MAGIC, JVFIO_BOOT_MAGIC);
        b.putLong(RAM_SIZE, ramSize);
        for (int i = 0; i < args.length; i++) {
            b.putLong(ARGS + 8 * i, args[i]);
        }
        b.putInt(DEVICE_COUNT, devices.size());
        for (int d = 0; d < devices.size(); d++) {
            Device device = devices.get(d);
            int at = DEVICES + d * DEVICE_SIZE;
            byte[] name = device.compatible().getBytes(StandardCharsets.US_ASCII);
            b.put(at + DEVICE_COMPATIBLE, name);
            b.putInt(at + DEVICE_REGION_COUNT, device.regions().size());
            b.putInt(at + DEVICE_IRQ_COUNT, device.gsis().size());
            for (int r = 0; r < device.regions().size(); r++) {
                b.putLong(
                        at + DEVICE_REGION_BASE + 8 * r, device.regions().get(r).base());
                b.putLong(
                        at + DEVICE_REGION_SIZE + 8 * r, device.regions().get(r).size());
            }
            for (int g = 0; g < device.gsis().size(); g++) {
                b.putInt(at + DEVICE_IRQ_GSI + 4 * g, device.gsis().get(g));
            }
        }
        return b.array();
    }
}
