package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;

import io.jvfio.sys.Mapping;
import io.jvfio.vfiouser.server.RegionHandler;

/**
 * Region 1, the device's RAM, shared with the client's mmap; this handler serves its trapped part (and
 * any access that straddles into it): the same RAM bytes, with the doorbell at
 * {@link TestDeviceRegisters#RAM_DOORBELL} and its read-only count at
 * {@link TestDeviceRegisters#RAM_DOORBELL_COUNT}. Guarded by the device's lock.
 */
final class DeviceRam implements RegionHandler {
    private final Object lock;
    /** The region's shared memory; null until the device is attached to a server. */
    private Mapping memory;

    private long doorbells;
    private long totalDoorbells;

    DeviceRam(Object lock) {
        this.lock = lock;
    }

    /** Whether {@code [offset, offset + length)} lies inside the RAM. */
    static boolean contains(long offset, int length) {
        return offset >= 0 && offset <= RAM_SIZE - length;
    }

    void attach(Mapping shared) {
        memory = shared;
    }

    /** Device reset: the whole RAM zeroed (the client's mmap sees zeros) and the doorbell count 0. */
    void reset() {
        doorbells = 0;
        if (memory != null && memory.isOpen()) {
            memory.fill(0, RAM_SIZE, (byte) 0);
        }
    }

    long doorbells() {
        return doorbells;
    }

    long totalDoorbells() {
        return totalDoorbells;
    }

    @Override
    public long read(long offset, int size) {
        byte[] bytes = new byte[size];
        read(offset, bytes);
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            value = (value << 8) | (bytes[i] & 0xFF);
        }
        return value;
    }

    @Override
    public void read(long offset, byte[] destination) {
        synchronized (lock) {
            if (!contains(offset, destination.length)) {
                return;
            }
            memory.copyTo(offset, destination, 0, destination.length);
            int count = (int) doorbells;
            for (int i = 0; i < destination.length; i++) {
                long at = offset + i;
                if (at >= RAM_DOORBELL_COUNT && at < RAM_DOORBELL_COUNT + 4) {
                    destination[i] = (byte) (count >>> (8 * (at - RAM_DOORBELL_COUNT)));
                }
            }
        }
    }

    @Override
    public void write(long offset, int size, long value) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        write(offset, bytes);
    }

    @Override
    public void write(long offset, byte[] source) {
        synchronized (lock) {
            if (!contains(offset, source.length)) {
                return;
            }
            boolean rings = false;
            for (int i = 0; i < source.length; i++) {
                long at = offset + i;
                if (at >= RAM_DOORBELL_COUNT && at < RAM_DOORBELL_COUNT + 4) {
                    continue;
                }
                rings |= at == RAM_DOORBELL;
                memory.putByte(at, source[i]);
            }
            if (rings) {
                doorbells++;
                totalDoorbells++;
            }
        }
    }
}
