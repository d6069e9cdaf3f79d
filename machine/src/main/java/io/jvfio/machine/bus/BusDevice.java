package io.jvfio.machine.bus;

/**
 * Something that answers guest accesses on a {@link Bus}. Offsets are relative to the device's base;
 * sizes are 1, 2, 4 or 8. Called on vCPU threads, possibly several at once.
 */
public interface BusDevice {
    /** A read of {@code size} bytes at {@code offset}; the bus keeps only the low {@code size} bytes. */
    long read(long offset, int size);

    /** A write of the low {@code size} bytes of {@code value} at {@code offset}. */
    void write(long offset, int size, long value);
}
