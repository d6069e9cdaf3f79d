package io.jvfio.devices.virtio;

import java.util.List;

/**
 * One available buffer as a split virtqueue's descriptors describe it: the head's index (what the used
 * ring reports back) and the guest buffers in chain order, device-readable ones first.
 */
public record DescriptorChain(int head, List<Buffer> buffers) {
    public DescriptorChain {
        buffers = List.copyOf(buffers);
    }

    /** A guest buffer: {@code length} bytes at {@code address}, which the device may write or only read. */
    public record Buffer(long address, int length, boolean deviceWritable) {}

    /** The device-writable buffers, in order. */
    public List<Buffer> writable() {
        return buffers.stream().filter(Buffer::deviceWritable).toList();
    }
}
