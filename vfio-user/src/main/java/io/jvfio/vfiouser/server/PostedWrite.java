package io.jvfio.vfiouser.server;

/**
 * A register write a device model takes posted: the server offers the client an ioeventfd for it
 * (DEVICE_GET_REGION_IO_FDS, with the value as its datamatch), so a guest's write of {@code value} ({@code
 * size} bytes at {@code offset} of {@code region}) signals the eventfd inside the client's KVM instead of
 * becoming a REGION_WRITE that the guest waits for. The server turns each signal into that same write to the
 * region's {@link RegionHandler}, as a {@link RegionHandler#postedWrite}, on its event loop (the one that watches unmask eventfds); writes that
 * arrive before the server reads the eventfd come as one. A client that does not ask keeps sending
 * REGION_WRITEs.
 */
public record PostedWrite(int region, long offset, int size, long value) {
    public PostedWrite {
        if (region < 0 || offset < 0 || (size != 1 && size != 2 && size != 4 && size != 8)) {
            throw new IllegalArgumentException("a posted write of " + size + " bytes at 0x" + Long.toHexString(offset)
                    + " of region " + region + " (1, 2, 4 or 8 bytes, non-negative region and offset)");
        }
        if (size < 8 && (value >>> (8 * size)) != 0) {
            throw new IllegalArgumentException(
                    "a posted write's value 0x" + Long.toHexString(value) + " does not fit " + size + " bytes");
        }
    }
}
