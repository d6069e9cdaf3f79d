package io.jvfio.vfiouser.server;

/**
 * A region served by callbacks: every client access to it (or to its trapped part) calls these on the
 * connection's thread, one at a time; a {@link PostedWrite} signalled through its ioeventfd comes as a {@link
 * #postedWrite(long, int, long)} on the server's event loop (the one that watches unmask eventfds) instead,
 * possibly at the same time. Values are little-endian, zero-extended. A callback that throws makes the access
 * fail with an EIO error reply; the connection stays up.
 */
public interface RegionHandler {
    /** Reads 1, 2, 4 or 8 bytes at {@code offset}. */
    long read(long offset, int size);

    /** Writes the low 1, 2, 4 or 8 bytes of {@code value} at {@code offset}. */
    void write(long offset, int size, long value);

    /**
     * A write of 1, 2, 4 or 8 bytes that the client did not wait for: a {@link PostedWrite} signalled through
     * its ioeventfd, or a REGION_WRITE with NO_REPLY (QEMU's client posts its region writes so). It may reach
     * the model after the guest went on, past things the device did after the guest wrote it, which a
     * write the client waited for never does; a model to which that matters (an interrupt acknowledged
     * late) tells the two apart here. By default the plain {@link #write(long, int, long)}. Writes of other
     * lengths come to {@link #write(long, byte[])} posted or not.
     */
    default void postedWrite(long offset, int size, long value) {
        write(offset, size, value);
    }

    /** Reads any other length; by default byte by byte through {@link #read(long, int)}. */
    default void read(long offset, byte[] destination) {
        for (int i = 0; i < destination.length; i++) {
            destination[i] = (byte) read(offset + i, 1);
        }
    }

    /** Writes any other length; by default byte by byte through {@link #write(long, int, long)}. */
    default void write(long offset, byte[] source) {
        for (int i = 0; i < source.length; i++) {
            write(offset + i, 1, source[i] & 0xFF);
        }
    }
}
