package io.jvfio.platform;

import io.jvfio.machine.SwitchableRegion;
import io.jvfio.machine.bus.MmioDevice;
import io.jvfio.platform.irq.IrqController;
import io.jvfio.platform.observe.TrappedAccessEvent;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Mapping;
import io.jvfio.vfio.DeviceGoneException;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.VfioDevice;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * One device region in the guest: the trapped range on the MMIO bus, which forwards every access to
 * the device and then runs EOI handling, plus the mmap'ed subregions (the fast path) where the region
 * can be mapped. A device that fails an access is answered as absent hardware would be: reads all-ones,
 * writes dropped, logged once per cause.
 */
final class PlatformRegion implements MmioDevice {
    private static final System.Logger LOG = System.getLogger(PlatformRegion.class.getName());
    /**
     * How many causes of failed accesses a region logs: a backend's error names the offset, so a guest
     * that touches every register of a failing device would otherwise log a line for each.
     */
    static final int MAX_LOGGED_CAUSES = 64;

    private final String device;
    private final VfioDevice vfio;
    private final RegionInfo info;
    private final long guestBase;
    private final List<Mapping> mappings;
    private final List<SwitchableRegion> fastPaths = new CopyOnWriteArrayList<>();
    private volatile boolean readPath;
    private final LongAdder trappedReads = new LongAdder();
    private final LongAdder trappedWrites = new LongAdder();
    private final LongAdder failedAccesses = new LongAdder();
    private final Set<String> loggedFailures = ConcurrentHashMap.newKeySet();
    private volatile IrqController irqs;
    private final Consumer<IOException> onDeviceGone;
    private volatile boolean gone;

    PlatformRegion(
            String device,
            VfioDevice vfio,
            RegionInfo info,
            long guestBase,
            List<Mapping> mappings,
            Consumer<IOException> onDeviceGone) {
        this.onDeviceGone = onDeviceGone;
        this.device = device;
        this.vfio = vfio;
        this.info = info;
        this.guestBase = guestBase;
        this.mappings = new CopyOnWriteArrayList<>(mappings);
    }

    /** Adds an mmap'ed subregion of this region (one per mappable area). */
    void attachFastPath(SwitchableRegion subregion) {
        fastPaths.add(subregion);
    }

    /**
     * Adds a read-only memory slot over part of this region, which this region now owns with its memory:
     * the guest's reads there come from the memory, its writes still exit to {@link #write}.
     */
    void attachReadPath(SwitchableRegion subregion, Mapping memory) {
        mappings.add(memory);
        fastPaths.add(subregion);
        readPath = true;
    }

    /** Whether some of this region's reads come from a read-only memory slot. */
    boolean hasReadPath() {
        return readPath;
    }

    /** Where EOI handling goes (only on the user-side path; null while no IRQ uses it). */
    void setIrqController(IrqController controller) {
        this.irqs = controller;
    }

    RegionInfo info() {
        return info;
    }

    long guestBase() {
        return guestBase;
    }

    boolean hasFastPath() {
        return !fastPaths.isEmpty();
    }

    boolean fastPathMapped() {
        return fastPaths.stream().anyMatch(SwitchableRegion::isMapped);
    }

    List<SwitchableRegion> fastPaths() {
        return fastPaths;
    }

    @Override
    public long read(long offset, int size) {
        trappedReads.increment();
        long value;
        if (gone) {
            failedAccesses.increment();
            value = allOnes(size);
        } else if (!info.readable()) {
            value = allOnes(size);
            logOnce("read of write-only region " + info.index());
        } else {
            try {
                value = vfio.read(info.index(), offset, size);
            } catch (IOException | RuntimeException e) {
                failed(e);
                value = allOnes(size);
            }
        }
        TrappedAccessEvent.emit(device, info.index(), offset, size, false, value);
        IrqController controller = irqs;
        if (controller != null) {
            controller.trappedAccess(info.index(), offset, false, value);
        }
        return value;
    }

    @Override
    public void write(long offset, int size, long value) {
        trappedWrites.increment();
        if (gone) {
            failedAccesses.increment();
        } else if (!info.writable()) {
            logOnce("write to read-only region " + info.index());
        } else {
            try {
                vfio.write(info.index(), offset, size, value);
            } catch (IOException | RuntimeException e) {
                failed(e);
            }
        }
        TrappedAccessEvent.emit(device, info.index(), offset, size, true, value);
        IrqController controller = irqs;
        if (controller != null) {
            controller.trappedAccess(info.index(), offset, true, value);
        }
    }

    private void failed(Exception e) {
        failedAccesses.increment();
        if (e instanceof DeviceGoneException goneException) {
            onDeviceGone.accept(goneException);
        } else {
            logOnce("access failed: " + e.getMessage());
        }
    }

    /** The device is gone: from now on reads answer all-ones and writes are dropped without asking it. */
    void markGone() {
        gone = true;
    }

    private static long allOnes(int size) {
        return size >= 8 ? -1L : (1L << (size * 8)) - 1;
    }

    private void logOnce(String cause) {
        if (loggedFailures.size() >= MAX_LOGGED_CAUSES || !loggedFailures.add(cause)) {
            return;
        }
        LOG.log(
                System.Logger.Level.WARNING,
                "vfio " + device + ": region " + info.index() + ": " + cause
                        + " (reads answer all-ones, writes are dropped; logged once)");
        if (loggedFailures.size() == MAX_LOGGED_CAUSES) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "vfio " + device + ": region " + info.index() + ": " + MAX_LOGGED_CAUSES
                            + " causes logged; further ones are only counted");
        }
    }

    /**
     * Switches the fast path of this region on or off: every slot is tried, and the first failure is thrown
     * once the others are switched, so one slot KVM refuses does not keep the rest from switching.
     */
    void setFastPath(boolean enabled) throws ErrnoException {
        ErrnoException failed = null;
        for (SwitchableRegion region : fastPaths) {
            try {
                region.setMapped(enabled);
            } catch (ErrnoException e) {
                if (failed == null) {
                    failed = e;
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    long trappedReads() {
        return trappedReads.sum();
    }

    long trappedWrites() {
        return trappedWrites.sum();
    }

    long failedAccesses() {
        return failedAccesses.sum();
    }

    /**
     * Unmaps the fast path (the slots first, their numbers given back to the machine, then the memory). Memory that a slot KVM would not delete still
     * maps is kept mapped: unmapped, the guest would reach whatever this process maps at that address next.
     */
    void close() {
        boolean slotsRemain = false;
        for (SwitchableRegion region : fastPaths) {
            try {
                region.close();
            } catch (ErrnoException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "vfio " + device + ": removing a fast path: " + e.getMessage());
            }
            slotsRemain |= region.isMapped();
        }
        if (slotsRemain) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "vfio " + device + ": region " + info.index()
                            + ": a memory slot could not be deleted, so its memory stays mapped");
            return;
        }
        mappings.forEach(Mapping::close);
    }
}
