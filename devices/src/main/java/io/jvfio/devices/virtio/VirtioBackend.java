package io.jvfio.devices.virtio;

import java.util.List;
import java.util.Map;

/**
 * What a virtio device type adds to the virtio-mmio transport: its device ID, its own feature bits, its
 * virtqueues and what it does with a buffer. Called by {@link VirtioMmioDevice} with its lock held; the
 * device closes its backend when it is closed.
 */
public interface VirtioBackend extends AutoCloseable {
    /** The catalog name, e.g. {@code virtio-rng}. */
    String kind();

    /** The virtio device ID (virtio 1.2, section 5), e.g. 4 for an entropy source. */
    int deviceId();

    /** Device-type feature bits (0-23, 50-127 in the specification); the transport adds its own. */
    default long features() {
        return 0;
    }

    /** The maximum size of each virtqueue, by queue index; each a power of 2. */
    List<Integer> queueSizes();

    /**
     * Serves one buffer the driver made available on {@code queue}; returns how many bytes the device
     * wrote into its device-writable part (the used ring's {@code len}).
     *
     * @throws MalformedQueueException when the buffer breaks the device type's rules or lies outside
     *                                 the DMA windows
     */
    int serve(int queue, DescriptorChain chain, GuestMemory memory) throws MalformedQueueException;

    /**
     * The features the driver accepted, when the device keeps its FEATURES_OK; 0 again at reset, before
     * any. What a device type does may depend on them (virtio-blk's cache without VIRTIO_BLK_F_FLUSH).
     */
    default void featuresNegotiated(long features) {}

    /** The device-specific configuration space, byte {@code offset}; none by default. */
    default int readConfig(int offset) {
        return 0;
    }

    /** One line describing this instance, for {@code jvfio serve}. */
    String describe();

    /** Counters since creation, named {@code group.counter}. */
    Map<String, Long> totals();

    /** Releases what the backend holds (a backing file); nothing by default. */
    @Override
    default void close() {}
}
