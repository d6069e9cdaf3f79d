package io.jvfio.vfiouser.server;

import io.jvfio.sys.IoVector;
import io.jvfio.sys.Mapping;
import java.io.IOException;

/**
 * What the server gives a device model: its IRQ lines, the memory of its shared regions, and DMA into
 * the connected client's memory (through the mapped fds of DMA_MAP, or DMA_READ / DMA_WRITE messages
 * where the client gave no fd). Usable from any thread.
 */
public interface DeviceContext {
    /** Line {@code sub} of IRQ index {@code index}. */
    ModelIrqLine irq(int index, int sub);

    /** The memory behind a shared region, shared with the client's mmap. */
    Mapping regionMemory(int region);

    /** Whether a client is connected and has negotiated. */
    boolean clientConnected();

    /**
     * Reads client memory at I/O virtual address {@code iova}; the range must lie in one readable
     * DMA mapping of the client.
     */
    void dmaRead(long iova, byte[] destination, int offset, int length) throws IOException;

    /** Writes client memory at {@code iova}; the range must lie in one writable DMA mapping. */
    void dmaWrite(long iova, byte[] source, int offset, int length) throws IOException;

    /**
     * Checks, moving nothing, that [iova, +length) lies in one DMA mapping of the client that allows the
     * access ({@code write}, or a read): for a device that validates every buffer of a request before it
     * does any of the request's work, as QEMU maps them all first. A DMA_UNMAP may still take the range
     * away after the check; the access then fails as any other.
     *
     * @throws DmaException when the range lies outside the client's mappings or its access is not allowed,
     *     or when no client is connected
     */
    void dmaCheck(long iova, int length, boolean write) throws DmaException;

    /**
     * Puts client memory over the ranges [iovas[i], +lengths[i]), each in one DMA mapping, into {@code
     * vector} (cleared first) and runs {@code transfer} with it: for the device to write those ranges
     * ({@code write}) or read them with no copy in between, as a disk moves a request between its file and
     * the client's buffers in one preadv or pwritev. A DMA_UNMAP waits for the transfer. Returns false,
     * running nothing, where a range lies in a mapping the client gave no fd for, or where the ranges are
     * more than the vector holds: the caller then copies through {@link #dmaRead} and {@link #dmaWrite}.
     *
     * @throws DmaException when a range lies outside the client's mappings or its access is not allowed,
     *     before anything runs; or when the memory behind a mapping is gone
     * @throws IOException what {@code transfer} throws
     */
    boolean dmaDirect(long[] iovas, int[] lengths, boolean write, IoVector vector, DirectTransfer transfer)
            throws IOException;

    /** Work on client memory gathered in an {@link IoVector}: {@link #dmaDirect}. */
    @FunctionalInterface
    interface DirectTransfer {
        void run(IoVector vector) throws IOException;
    }

    default void dmaRead(long iova, byte[] destination) throws IOException {
        dmaRead(iova, destination, 0, destination.length);
    }

    default void dmaWrite(long iova, byte[] source) throws IOException {
        dmaWrite(iova, source, 0, source.length);
    }
}
