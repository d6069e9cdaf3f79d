package io.jvfio.devices.virtio;

import java.io.IOException;

/**
 * The driver's memory as a virtio device reaches it: only through the DMA windows the vfio-user client
 * mapped, so a guest address outside them is an {@link IOException}, never an access elsewhere.
 */
public interface GuestMemory {
    void read(long address, byte[] destination, int offset, int length) throws IOException;

    void write(long address, byte[] source, int offset, int length) throws IOException;
}
