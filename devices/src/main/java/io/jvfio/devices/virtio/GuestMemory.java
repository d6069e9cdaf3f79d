package io.jvfio.devices.virtio;

import io.jvfio.sys.IoVector;
import io.jvfio.vfiouser.server.DeviceContext;
import java.io.IOException;
import java.util.List;

/**
 * The driver's memory as a virtio device reaches it: only through the DMA windows the vfio-user client
 * mapped, so a guest address outside them is an {@link IOException}, never an access elsewhere.
 */
public interface GuestMemory {
    void read(long address, byte[] destination, int offset, int length) throws IOException;

    void write(long address, byte[] source, int offset, int length) throws IOException;

    /**
     * Checks, moving nothing, that each of {@code buffers} lies inside the DMA windows with the access its
     * role needs: writable where it is device-writable, readable otherwise. For a device that does a
     * request's work only once all its buffers are known reachable, as QEMU maps them all first.
     *
     * @throws IOException naming the first buffer that lies outside the windows or lacks the access
     */
    void check(List<DescriptorChain.Buffer> buffers) throws IOException;

    /**
     * Gathers the driver's {@code buffers}, in order, into {@code vector} and runs {@code transfer} with
     * it, for the device to write them ({@code deviceWrites}) or read them with no copy in between (one
     * preadv or pwritev of a file). Returns false, running nothing, where the buffers cannot be reached so
     * (memory the client shares only through DMA messages, or more buffers than the vector holds): the
     * caller then copies with {@link #read} and {@link #write}.
     *
     * @throws IOException when a buffer lies outside the DMA windows, before anything runs, or what
     *     {@code transfer} throws
     */
    boolean direct(
            List<DescriptorChain.Buffer> buffers,
            boolean deviceWrites,
            IoVector vector,
            DeviceContext.DirectTransfer transfer)
            throws IOException;
}
