package io.jvfio.machine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Resources for dynamically added platform devices: page-aligned MMIO ranges from the window
 * 0xD0000000-0xDFFFFFFF (first fit) and GSIs, handed out 16..23 first (the IOAPIC pins no legacy device
 * uses), then 5, 9, 10, 11. Thread-safe; released resources can be allocated again. A device takes its
 * resources through a {@link Lease}, so that removing the device returns all of them at once, even those
 * of a device whose set-up failed halfway.
 */
public final class PlatformBus {
    public static final long MMIO_WINDOW_BASE = 0xD000_0000L;
    public static final long MMIO_WINDOW_SIZE = 0x1000_0000L;
    public static final long PAGE_SIZE = 4096;
    private static final int[] GSI_ORDER = {16, 17, 18, 19, 20, 21, 22, 23, 5, 9, 10, 11};

    private final TreeMap<Long, Long> allocated = new TreeMap<>();
    private final Deque<Integer> freeGsis = new ArrayDeque<>();
    private final Set<Integer> usedGsis = new HashSet<>();

    public PlatformBus() {
        for (int gsi : GSI_ORDER) {
            freeGsis.addLast(gsi);
        }
    }

    /** A new, empty lease: what one device takes from this bus, returned together when it closes. */
    public Lease lease() {
        return new Lease();
    }

    /** A free range of {@code size} bytes (rounded up to pages), page-aligned, inside the window. */
    public synchronized long allocateMmio(long size) {
        if (size <= 0 || size > MMIO_WINDOW_SIZE) {
            throw new IllegalArgumentException("MMIO size must be 1.." + MMIO_WINDOW_SIZE + " bytes, got " + size);
        }
        long pages = (size + PAGE_SIZE - 1) & -PAGE_SIZE;
        long candidate = MMIO_WINDOW_BASE;
        for (Map.Entry<Long, Long> range : allocated.entrySet()) {
            if (range.getKey() - candidate >= pages) {
                break;
            }
            candidate = range.getKey() + range.getValue();
        }
        if (candidate + pages > MMIO_WINDOW_BASE + MMIO_WINDOW_SIZE) {
            throw new IllegalStateException(
                    "platform MMIO window 0xD0000000-0xDFFFFFFF has no free 0x" + Long.toHexString(pages) + " bytes");
        }
        allocated.put(candidate, pages);
        return candidate;
    }

    /** Returns a range from {@link #allocateMmio}. */
    public synchronized void releaseMmio(long base) {
        if (allocated.remove(base) == null) {
            throw new IllegalArgumentException("0x" + Long.toHexString(base) + " is not an allocated MMIO range");
        }
    }

    /** The next free GSI in the order 16..23, 5, 9, 10, 11. */
    public synchronized int allocateGsi() {
        Integer gsi = freeGsis.pollFirst();
        if (gsi == null) {
            throw new IllegalStateException("no free GSI for a platform device (16-23, 5, 9, 10, 11 are all taken)");
        }
        usedGsis.add(gsi);
        return gsi;
    }

    /** Returns a GSI from {@link #allocateGsi}; it is handed out again in its original order. */
    public synchronized void releaseGsi(int gsi) {
        if (!usedGsis.remove(gsi)) {
            throw new IllegalArgumentException("GSI " + gsi + " is not allocated");
        }
        freeGsis.clear();
        for (int candidate : GSI_ORDER) {
            if (!usedGsis.contains(candidate)) {
                freeGsis.addLast(candidate);
            }
        }
    }

    /**
     * The MMIO ranges and GSIs one device took from the bus. Closing returns them all (once; later calls
     * do nothing): close it after the device's ranges left the MMIO bus and its lines stopped being driven.
     */
    public final class Lease implements AutoCloseable {
        private final List<Long> mmio = new ArrayList<>();
        private final List<Integer> gsis = new ArrayList<>();
        private boolean closed;

        private Lease() {}

        /** As {@link PlatformBus#allocateMmio}, held by this lease. */
        public long allocateMmio(long size) {
            synchronized (PlatformBus.this) {
                requireOpen();
                long base = PlatformBus.this.allocateMmio(size);
                mmio.add(base);
                return base;
            }
        }

        /** As {@link PlatformBus#allocateGsi}, held by this lease. */
        public int allocateGsi() {
            synchronized (PlatformBus.this) {
                requireOpen();
                int gsi = PlatformBus.this.allocateGsi();
                gsis.add(gsi);
                return gsi;
            }
        }

        private void requireOpen() {
            if (closed) {
                throw new IllegalStateException("this platform-bus lease was closed: its device was removed");
            }
        }

        @Override
        public void close() {
            synchronized (PlatformBus.this) {
                if (closed) {
                    return;
                }
                closed = true;
                mmio.forEach(PlatformBus.this::releaseMmio);
                gsis.forEach(PlatformBus.this::releaseGsi);
                mmio.clear();
                gsis.clear();
            }
        }
    }
}
