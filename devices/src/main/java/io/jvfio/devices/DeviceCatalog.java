package io.jvfio.devices;

import io.jvfio.devices.ns16550a.Ns16550a;
import io.jvfio.devices.testdevice.TestDevice;
import io.jvfio.devices.virtio.VirtioBlk;
import io.jvfio.devices.virtio.VirtioRng;
import java.util.List;

/** The device models jvfio can serve, by name: what {@code jvfio serve NAME} looks up. */
public final class DeviceCatalog {
    /** The programmable interrupt/timer/DMA device of docs/devices/test-device.md. */
    public static final String TEST_DEVICE = "test-device";
    /** A 16550A UART with MMIO registers and a level IRQ, its serial line on a host socket (docs/devices/ns16550a.md). */
    public static final String NS16550A = Ns16550a.COMPATIBLE;
    /** A virtio entropy device on the virtio-mmio transport (docs/devices/virtio-rng.md). */
    public static final String VIRTIO_RNG = VirtioRng.KIND;
    /** A virtio block device on the virtio-mmio transport, backed by a host file (docs/devices/virtio-blk.md). */
    public static final String VIRTIO_BLK = VirtioBlk.KIND;

    private DeviceCatalog() {}

    /** The names {@link #create} accepts. */
    public static List<String> names() {
        return List.of(TEST_DEVICE, NS16550A, VIRTIO_RNG, VIRTIO_BLK);
    }

    /**
     * A new device model named {@code name}, configured by {@code options}; the caller owns it.
     *
     * @throws IllegalArgumentException naming the bad argument: an unknown name or options the model refuses
     */
    public static ModelledDevice create(String name, DeviceOptions options) {
        return switch (name) {
            case TEST_DEVICE -> TestDevice.create(options);
            case NS16550A -> Ns16550a.create(options);
            case VIRTIO_RNG -> VirtioRng.create(options);
            case VIRTIO_BLK -> VirtioBlk.create(options);
            default ->
                throw new IllegalArgumentException(
                        "unknown device model '" + name + "' (known: " + String.join(", ", names()) + ")");
        };
    }
}
