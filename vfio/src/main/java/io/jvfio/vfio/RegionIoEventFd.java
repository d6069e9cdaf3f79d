package io.jvfio.vfio;

import io.jvfio.sys.EventFd;
import java.util.OptionalLong;

/**
 * An ioeventfd a device offers for part of a region (vfio-user's DEVICE_GET_REGION_IO_FDS): a write of
 * {@code size} bytes (0: any size) at {@code offset} of the region (only of {@code datamatch}, if present) may be
 * posted by signalling {@code eventFd} instead of being forwarded, as KVM_IOEVENTFD does for a guest's
 * write. The caller owns {@code eventFd}.
 */
public record RegionIoEventFd(int region, long offset, int size, OptionalLong datamatch, EventFd eventFd)
        implements AutoCloseable {
    public RegionIoEventFd {
        boolean anySize = size == 0 && datamatch.isEmpty();
        if (offset < 0 || !(anySize || size == 1 || size == 2 || size == 4 || size == 8)) {
            throw new IllegalArgumentException("region " + region + ": an ioeventfd of " + size + " bytes at offset "
                    + offset + " (1, 2, 4 or 8 bytes, or 0 for any size without a datamatch)");
        }
    }

    /** Closes the eventfd. */
    @Override
    public void close() {
        eventFd.close();
    }
}
