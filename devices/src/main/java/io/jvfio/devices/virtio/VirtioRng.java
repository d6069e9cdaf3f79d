package io.jvfio.devices.virtio;

import io.jvfio.devices.DeviceOptions;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The virtio entropy device (virtio 1.2, section 5.4; docs/devices/virtio-rng.md): device ID 4, one
 * request queue, no feature bits, no configuration. Each buffer the driver makes available is filled
 * with the next bytes of its {@link EntropySource}, up to {@value VirtioMmioDevice#MAX_BYTES_PER_BUFFER}
 * bytes a buffer.
 */
public final class VirtioRng implements VirtioBackend {
    /** The catalog name. */
    public static final String KIND = "virtio-rng";

    public static final int DEVICE_ID = 4;
    public static final int REQUEST_QUEUE = 0;
    /** Room for as many outstanding requests as a driver wants; Linux's keeps one. */
    public static final int QUEUE_SIZE = 64;

    private final EntropySource source;
    private long requests;

    public VirtioRng(EntropySource source) {
        this.source = source;
    }

    /**
     * A virtio-rng on the virtio-mmio transport, from catalog options: {@code --seed} makes its stream
     * reproducible; without it the bytes are the host's.
     *
     * @throws IllegalArgumentException naming an option of another model
     */
    public static VirtioMmioDevice create(DeviceOptions options) {
        if (options.irqs().isPresent() || options.levelMask().isPresent()) {
            throw new IllegalArgumentException(
                    "virtio-rng has one level IRQ: --irqs and --level-mask are options of test-device");
        }
        if (options.hasBackingFile()) {
            throw new IllegalArgumentException(
                    "--file and --read-only are options of virtio-blk; virtio-rng has no backing file");
        }
        if (options.serialSocket().isPresent()) {
            throw new IllegalArgumentException(
                    "--serial-socket is an option of ns16550a; virtio-rng has no serial line");
        }
        EntropySource source =
                options.seed().isPresent() ? EntropySource.seeded(options.seed().getAsLong()) : EntropySource.host();
        return new VirtioMmioDevice(new VirtioRng(source));
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public int deviceId() {
        return DEVICE_ID;
    }

    @Override
    public List<Integer> queueSizes() {
        return List.of(QUEUE_SIZE);
    }

    /** Fills the buffer's device-writable part; a device-readable part is against the specification. */
    @Override
    public int serve(int queue, DescriptorChain chain, GuestMemory memory) throws MalformedQueueException {
        int written = 0;
        for (DescriptorChain.Buffer buffer : chain.buffers()) {
            if (!buffer.deviceWritable()) {
                throw new MalformedQueueException(
                        "virtio-rng: request " + chain.head() + " has a device-readable buffer");
            }
            int length = Math.min(buffer.length(), VirtioMmioDevice.MAX_BYTES_PER_BUFFER - written);
            if (length == 0) {
                continue;
            }
            byte[] bytes = new byte[length];
            source.fill(bytes);
            try {
                memory.write(buffer.address(), bytes, 0, length);
            } catch (IOException e) {
                throw new MalformedQueueException(
                        "virtio-rng: request " + chain.head() + ": cannot write its buffer at 0x"
                                + Long.toHexString(buffer.address()) + ": " + e.getMessage());
            }
            written += length;
        }
        requests++;
        return written;
    }

    @Override
    public String describe() {
        return source.describe();
    }

    @Override
    public Map<String, Long> totals() {
        Map<String, Long> totals = new LinkedHashMap<>();
        totals.put("rng.requests", requests);
        return totals;
    }
}
