package io.jvfio.devices.virtio;

/**
 * The virtio-mmio register layout, version 2 (virtio 1.2, section 4.2.2), and the status and feature bits
 * the transport itself interprets. Offsets are from the start of the region; every register is 32 bits.
 */
public final class VirtioMmioRegisters {
    /** "virt" in little-endian. */
    public static final int MAGIC = 0x74726976;
    /** The non-legacy interface. */
    public static final int VERSION = 2;
    /** QEMU's value ("QEMU"): a driver matches on the device ID, not on this. */
    public static final int VENDOR_ID = 0x554D4551;
    /**
     * One page: the registers, the configuration space from 0x100 (what QEMU's virtio-mmio decodes ends
     * at 0x200; the rest reads 0), and whole, so the page of register values can be a read-only memory
     * slot of the client's guest.
     */
    public static final long REGION_SIZE = 0x1000;

    public static final int MAGIC_VALUE = 0x000;
    public static final int VERSION_REG = 0x004;
    public static final int DEVICE_ID = 0x008;
    public static final int VENDOR_ID_REG = 0x00C;
    public static final int DEVICE_FEATURES = 0x010;
    public static final int DEVICE_FEATURES_SEL = 0x014;
    public static final int DRIVER_FEATURES = 0x020;
    public static final int DRIVER_FEATURES_SEL = 0x024;
    public static final int QUEUE_SEL = 0x030;
    public static final int QUEUE_NUM_MAX = 0x034;
    public static final int QUEUE_NUM = 0x038;
    public static final int QUEUE_READY = 0x044;
    public static final int QUEUE_NOTIFY = 0x050;
    public static final int INTERRUPT_STATUS = 0x060;
    public static final int INTERRUPT_ACK = 0x064;
    public static final int STATUS = 0x070;
    public static final int QUEUE_DESC_LOW = 0x080;
    public static final int QUEUE_DESC_HIGH = 0x084;
    public static final int QUEUE_DRIVER_LOW = 0x090;
    public static final int QUEUE_DRIVER_HIGH = 0x094;
    public static final int QUEUE_DEVICE_LOW = 0x0A0;
    public static final int QUEUE_DEVICE_HIGH = 0x0A4;
    public static final int SHM_SEL = 0x0AC;
    public static final int SHM_LEN_LOW = 0x0B0;
    public static final int SHM_LEN_HIGH = 0x0B4;
    public static final int SHM_BASE_LOW = 0x0B8;
    public static final int SHM_BASE_HIGH = 0x0BC;
    public static final int CONFIG_GENERATION = 0x0FC;
    public static final int CONFIG = 0x100;

    /** The registers a read can return something from; every other register offset reads 0. */
    static final int[] READABLE = {
        MAGIC_VALUE,
        VERSION_REG,
        DEVICE_ID,
        VENDOR_ID_REG,
        DEVICE_FEATURES,
        QUEUE_NUM_MAX,
        QUEUE_READY,
        INTERRUPT_STATUS,
        STATUS,
        QUEUE_DESC_LOW,
        QUEUE_DESC_HIGH,
        QUEUE_DRIVER_LOW,
        QUEUE_DRIVER_HIGH,
        QUEUE_DEVICE_LOW,
        QUEUE_DEVICE_HIGH,
        SHM_LEN_LOW,
        SHM_LEN_HIGH,
        SHM_BASE_LOW,
        SHM_BASE_HIGH,
        CONFIG_GENERATION
    };

    /** InterruptStatus: the device used a buffer in at least one virtqueue. */
    public static final int INTERRUPT_USED_BUFFER = 1;
    /** InterruptStatus: the configuration changed (or the device needs a reset). */
    public static final int INTERRUPT_CONFIG_CHANGE = 2;

    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_NEEDS_RESET = 64;
    public static final int STATUS_FAILED = 128;

    /** VIRTIO_F_VERSION_1 (bit 32): the driver speaks virtio 1.x; this transport serves nothing else. */
    public static final long FEATURE_VERSION_1 = 1L << 32;

    private VirtioMmioRegisters() {}
}
