package io.jvfio.platform.devicetree;

/**
 * One entry of the DTB's memory-reservation map: guest-physical memory the guest must not use, such as
 * the page that holds the DTB itself. {@code size} is non-zero (a zero-size entry ends the map).
 */
public record MemoryReservation(long address, long size) {
    public MemoryReservation {
        if (size == 0) {
            throw new IllegalArgumentException(
                    "memory reservation at 0x" + Long.toHexString(address) + ": size is 0 (a 0/0 entry ends the map)");
        }
        if (Long.compareUnsigned(address + size, address) < 0 && address + size != 0) {
            throw new IllegalArgumentException("memory reservation at 0x" + Long.toHexString(address) + " of size 0x"
                    + Long.toHexString(size) + " wraps past 2^64");
        }
    }
}
