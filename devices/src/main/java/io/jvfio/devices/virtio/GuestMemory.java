package io.jvfio.devices.virtio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The driver's memory as a virtio device reaches it: only through the DMA windows the vfio-user client
 * mapped, so a guest address outside them is an {@link IOException}, never an access elsewhere.
 */
public interface GuestMemory {
    void read(long address, byte[] destination, int offset, int length) throws IOException;

    void write(long address, byte[] source, int offset, int length) throws IOException;

    /**
     * Runs {@code transfer} on direct views of the driver's {@code buffers}, in order, for the device to
     * write them ({@code deviceWrites}) or read them without a copy in between; the views are valid only
     * during the call. Returns false, running nothing, where the buffers cannot be reached so (memory the
     * client shares only through DMA messages): the caller then copies with {@link #read} and {@link #write}.
     *
     * @throws IOException when a buffer lies outside the DMA windows, before anything runs, or what
     *     {@code transfer} throws
     */
    boolean direct(List<DescriptorChain.Buffer> buffers, boolean deviceWrites, Transfer transfer) throws IOException;

    /** Work on direct views of the driver's buffers: {@link #direct}. */
    @FunctionalInterface
    interface Transfer {
        void run(ByteBuffer[] views) throws IOException;
    }
}
