package io.jvfio.devices.testdevice;

/**
 * The test device's register map (docs/devices/test-device.md): offsets in region {@link #REGS_REGION}
 * and in the RAM region {@link #RAM_REGION}, bit fields and fixed values. Guests, tests and the CLI
 * use these names so that the map is written down once in code.
 */
public final class TestDeviceRegisters {
    /** Region 0: the trapped register file. */
    public static final int REGS_REGION = 0;

    public static final long REGS_SIZE = 0x1000;
    /** Region 1: device RAM, shared memory with a trapped last page. */
    public static final int RAM_REGION = 1;

    public static final long RAM_SIZE = 0x10000;
    /** The mmap'able part of the RAM region: [0, RAM_MMAP_SIZE). */
    public static final long RAM_MMAP_SIZE = 0xF000;
    /** Writing here (any size) rings the doorbell; the bytes are stored too. */
    public static final long RAM_DOORBELL = 0xF000;
    /** Read-only 32-bit count of doorbell writes since reset. */
    public static final long RAM_DOORBELL_COUNT = 0xF004;

    public static final int ID = 0x000;
    public static final int VERSION = 0x004;
    public static final int IRQ_COUNT = 0x008;
    public static final int RESET = 0x00C;
    public static final int STATUS = 0x010;
    public static final int ACK = 0x014;
    public static final int RAISE = 0x018;
    public static final int TRIGGER_MODE = 0x01C;

    /** The per-line blocks start here, {@link #LINE_STRIDE} bytes apart. */
    public static final int LINE_BASE = 0x100;

    public static final int LINE_STRIDE = 0x20;
    public static final int TIMER_PERIOD_US = 0x00;
    public static final int TIMER_CTRL = 0x04;
    public static final int RAISE_COUNT = 0x08;
    public static final int ACK_COUNT = 0x0C;
    public static final int TIMER_REMAINING = 0x10;
    /** Raises left to answer ACKs of the line with: each ACK of it raises it again while non-zero. */
    public static final int ECHO_REMAINING = 0x14;

    public static final int DMA_SRC = 0x200;
    public static final int DMA_DST = 0x208;
    public static final int DMA_LEN = 0x210;
    public static final int DMA_CTRL = 0x214;
    public static final int DMA_STATUS = 0x218;
    public static final int DMA_COUNT = 0x21C;

    /** ID's value: "JVFT" read as a little-endian word spells "TFVJ" in memory order. */
    public static final int ID_VALUE = 0x4A564654;
    /** VERSION: 1.0 (major in the high half). */
    public static final int VERSION_VALUE = 0x00010000;

    public static final int MAX_LINES = 8;

    public static final int TIMER_ENABLE = 1;
    public static final int TIMER_PERIODIC = 1 << 1;
    /** Timer periods below this many microseconds run at this period. */
    public static final int TIMER_MIN_PERIOD_US = 20;

    public static final int DMA_START = 1;
    public static final int DMA_SRC_RAM = 1 << 1;
    public static final int DMA_DST_RAM = 1 << 2;
    public static final int DMA_RAISE = 1 << 3;
    public static final int DMA_LINE_SHIFT = 8;
    public static final int DMA_LINE_MASK = 0x7;

    public static final int DMA_IDLE = 0;
    public static final int DMA_DONE = 1;
    public static final int DMA_ERROR = 2;

    private TestDeviceRegisters() {}

    /** The offset of register {@code register} (e.g. {@link #TIMER_CTRL}) in line {@code line}'s block. */
    public static int line(int line, int register) {
        return LINE_BASE + line * LINE_STRIDE + register;
    }

    /** A DMA_CTRL value that starts a transfer with the given flags, raising {@code line} when it finishes. */
    public static int dmaStartRaising(int flags, int line) {
        return DMA_START | DMA_RAISE | flags | ((line & DMA_LINE_MASK) << DMA_LINE_SHIFT);
    }
}
