package io.jvfio.machine.bus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An address space of non-overlapping device ranges (MMIO or port I/O), kept as sorted arrays: a
 * dispatch is a binary search over the bases with no allocation, on an immutable snapshot that inserts
 * replace (so vCPUs never lock). An access is claimed by the range holding its first byte.
 *
 * <p>Unclaimed accesses, and devices that throw, never fail the vCPU: reads return all ones (the
 * value a bus with nothing on it floats to, as on PCI), writes are dropped, and each cause (bus, address,
 * size, direction) is logged once.
 */
public final class Bus {
    /** What an unclaimed read returns (masked to the access size). */
    public static final long UNCLAIMED_READ = -1L;

    private static final int MAX_LOGGED_CAUSES = 1024;
    private static final System.Logger LOG = System.getLogger(Bus.class.getName());

    /** One claimed range. */
    public record Range(String name, long base, long size, BusDevice device) {
        public long end() {
            return base + size;
        }
    }

    private record Snapshot(long[] bases, long[] ends, BusDevice[] devices, Range[] ranges) {}

    private final String name;
    private volatile Snapshot snapshot = new Snapshot(new long[0], new long[0], new BusDevice[0], new Range[0]);
    private final Set<String> loggedCauses = ConcurrentHashMap.newKeySet();
    private final AtomicLong unclaimed = new AtomicLong();

    public Bus(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Claims [base, base + size) for {@code device}; fails if it overlaps a range already on the bus. */
    public synchronized void add(String deviceName, long base, long size, BusDevice device) {
        if (size <= 0 || base < 0 || base + size < base) {
            throw new IllegalArgumentException(name + " bus: bad range for " + deviceName + ": base 0x"
                    + Long.toHexString(base) + " size 0x" + Long.toHexString(size));
        }
        Snapshot s = snapshot;
        int at = insertionPoint(s.bases, base);
        if (at > 0 && s.ends[at - 1] > base) {
            throw overlap(deviceName, base, size, s.ranges[at - 1]);
        }
        if (at < s.bases.length && s.bases[at] < base + size) {
            throw overlap(deviceName, base, size, s.ranges[at]);
        }
        List<Range> ranges = new ArrayList<>(Arrays.asList(s.ranges));
        ranges.add(at, new Range(deviceName, base, size, device));
        snapshot = build(ranges);
    }

    private IllegalArgumentException overlap(String deviceName, long base, long size, Range existing) {
        return new IllegalArgumentException(name + " bus: " + deviceName + " at 0x" + Long.toHexString(base)
                + "-0x" + Long.toHexString(base + size - 1) + " overlaps " + existing.name() + " at 0x"
                + Long.toHexString(existing.base()) + "-0x" + Long.toHexString(existing.end() - 1));
    }

    /** Removes the range starting at {@code base}; returns false if there is none. */
    public synchronized boolean remove(long base) {
        Snapshot s = snapshot;
        int at = Arrays.binarySearch(s.bases, base);
        if (at < 0) {
            return false;
        }
        List<Range> ranges = new ArrayList<>(Arrays.asList(s.ranges));
        ranges.remove(at);
        snapshot = build(ranges);
        return true;
    }

    private static Snapshot build(List<Range> ranges) {
        int n = ranges.size();
        long[] bases = new long[n];
        long[] ends = new long[n];
        BusDevice[] devices = new BusDevice[n];
        for (int i = 0; i < n; i++) {
            bases[i] = ranges.get(i).base();
            ends[i] = ranges.get(i).end();
            devices[i] = ranges.get(i).device();
        }
        return new Snapshot(bases, ends, devices, ranges.toArray(Range[]::new));
    }

    /** The first index whose base is above {@code address}. */
    private static int insertionPoint(long[] bases, long address) {
        int low = 0;
        int high = bases.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (bases[mid] <= address) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** The ranges on the bus, by base. */
    public List<Range> ranges() {
        return List.of(snapshot.ranges);
    }

    /** A read of {@code size} bytes at {@code address}: the device's answer, or all ones if unclaimed. */
    public long read(long address, int size) {
        Snapshot s = snapshot;
        int i = insertionPoint(s.bases, address) - 1;
        if (i >= 0 && address < s.ends[i]) {
            try {
                return mask(s.devices[i].read(address - s.bases[i], size), size);
            } catch (RuntimeException e) {
                logOnce("device " + s.ranges[i].name() + " failed a read", address, size, e);
                return mask(UNCLAIMED_READ, size);
            }
        }
        unclaimed.incrementAndGet();
        logOnce("unclaimed read", address, size, null);
        return mask(UNCLAIMED_READ, size);
    }

    /** A write of the low {@code size} bytes of {@code value} at {@code address}; dropped if unclaimed. */
    public void write(long address, int size, long value) {
        Snapshot s = snapshot;
        int i = insertionPoint(s.bases, address) - 1;
        if (i >= 0 && address < s.ends[i]) {
            try {
                s.devices[i].write(address - s.bases[i], size, mask(value, size));
            } catch (RuntimeException e) {
                logOnce("device " + s.ranges[i].name() + " failed a write", address, size, e);
            }
            return;
        }
        unclaimed.incrementAndGet();
        logOnce("unclaimed write", address, size, null);
    }

    /** How many accesses found no device. */
    public long unclaimedAccesses() {
        return unclaimed.get();
    }

    private static long mask(long value, int size) {
        return size >= 8 ? value : value & ((1L << (size * 8)) - 1);
    }

    private void logOnce(String what, long address, int size, RuntimeException failure) {
        if (loggedCauses.size() >= MAX_LOGGED_CAUSES) {
            return;
        }
        String cause = what + " of " + size + " bytes at 0x" + Long.toHexString(address);
        if (loggedCauses.add(cause)) {
            String message =
                    name + " bus: " + cause + (failure == null ? "" : ": " + failure) + " (logged once per cause)";
            if (failure == null) {
                LOG.log(System.Logger.Level.WARNING, message);
            } else {
                LOG.log(System.Logger.Level.WARNING, message, failure);
            }
        }
    }

    /** The causes logged so far ("unclaimed read of 4 bytes at 0x...", ...). */
    public Set<String> loggedCauses() {
        return Set.copyOf(loggedCauses);
    }
}
