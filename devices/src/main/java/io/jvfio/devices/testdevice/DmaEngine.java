package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;

import io.jvfio.sys.Mapping;
import io.jvfio.vfiouser.server.DeviceContext;
import java.io.IOException;
import java.lang.System.Logger.Level;

/**
 * The DMA engine (docs/devices/test-device.md, "DMA engine"). Its registers are guarded by the device's
 * lock; a transfer reads them under the lock and copies without it (only the connection thread writes
 * them, and it is the one copying), so a slow client's DMA never holds up the timers.
 */
final class DmaEngine {
    private static final System.Logger LOG = System.getLogger(TestDevice.class.getName());

    private final Object lock;
    private final TestDeviceLine[] lines;
    private final IgnoredAccesses ignored;
    /** The client's memory and the device's RAM; null until the device is attached to a server. */
    private DeviceContext context;

    private Mapping ram;
    private long source;
    private long destination;
    private int length;
    private int status = DMA_IDLE;
    private long count;
    private long totalTransfers;
    private long totalErrors;

    DmaEngine(Object lock, TestDeviceLine[] lines, IgnoredAccesses ignored) {
        this.lock = lock;
        this.lines = lines;
        this.ignored = ignored;
    }

    void attach(DeviceContext deviceContext, Mapping deviceRam) {
        context = deviceContext;
        ram = deviceRam;
    }

    /** The DMA registers (DMA_SRC to DMA_COUNT) as they read; write-only and unused offsets read 0. */
    int read(int offset) {
        return switch (offset) {
            case DMA_SRC -> (int) source;
            case DMA_SRC + 4 -> (int) (source >>> 32);
            case DMA_DST -> (int) destination;
            case DMA_DST + 4 -> (int) (destination >>> 32);
            case DMA_LEN -> length;
            case DMA_STATUS -> status;
            case DMA_COUNT -> (int) count;
            default -> 0;
        };
    }

    /**
     * A write to DMA_SRC, DMA_DST (either half) or DMA_LEN; DMA_CTRL goes to {@link #control}.
     *
     * @return false if {@code offset} is none of them: the write is ignored
     */
    boolean write(int offset, int value) {
        switch (offset) {
            case DMA_SRC -> source = (source & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(value);
            case DMA_SRC + 4 -> source = (source & 0xFFFF_FFFFL) | ((long) value << 32);
            case DMA_DST -> destination = (destination & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(value);
            case DMA_DST + 4 -> destination = (destination & 0xFFFF_FFFFL) | ((long) value << 32);
            case DMA_LEN -> length = (int) Math.min(Integer.toUnsignedLong(value), RAM_SIZE);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** A write to DMA_CTRL: with the start bit, runs the transfer to the end. Called without the lock. */
    void control(int ctrl) {
        if ((ctrl & DMA_START) == 0) {
            return;
        }
        Transfer transfer;
        synchronized (lock) {
            if (context == null) {
                ignored.record("DMA before the device is served");
                return;
            }
            transfer = transfer(ctrl);
        }
        String failure = copy(transfer);
        synchronized (lock) {
            if (failure == null) {
                status = DMA_DONE;
                count++;
                totalTransfers++;
            } else {
                status = DMA_ERROR;
                totalErrors++;
                LOG.log(Level.DEBUG, "test-device: DMA failed: {0}", failure);
            }
            if (transfer.raiseLine() >= 0) {
                if (transfer.raiseLine() < lines.length) {
                    lines[transfer.raiseLine()].raise();
                } else {
                    ignored.record("DMA_CTRL names IRQ line " + transfer.raiseLine() + " of " + lines.length);
                }
            }
        }
    }

    /** A transfer as DMA_CTRL started it, read from the registers under the lock. */
    private record Transfer(
            long source, boolean sourceRam, long destination, boolean destinationRam, int length, int raiseLine) {}

    private Transfer transfer(int ctrl) {
        int raiseLine = (ctrl & DMA_RAISE) == 0 ? -1 : (ctrl >>> DMA_LINE_SHIFT) & DMA_LINE_MASK;
        return new Transfer(
                source, (ctrl & DMA_SRC_RAM) != 0, destination, (ctrl & DMA_DST_RAM) != 0, length, raiseLine);
    }

    /** Runs a transfer; returns null on success or why it failed. Never throws. */
    private String copy(Transfer transfer) {
        int bytes = transfer.length();
        if (transfer.sourceRam() && !DeviceRam.contains(transfer.source(), bytes)) {
            return "source [0x" + Long.toHexString(transfer.source()) + ", +0x" + Integer.toHexString(bytes)
                    + ") lies past RAM";
        }
        if (transfer.destinationRam() && !DeviceRam.contains(transfer.destination(), bytes)) {
            return "destination [0x" + Long.toHexString(transfer.destination()) + ", +0x" + Integer.toHexString(bytes)
                    + ") lies past RAM";
        }
        if (bytes == 0) {
            return null;
        }
        byte[] buffer = new byte[bytes];
        try {
            if (transfer.sourceRam()) {
                ram.copyTo(transfer.source(), buffer, 0, bytes);
            } else {
                context.dmaRead(transfer.source(), buffer, 0, bytes);
            }
            if (transfer.destinationRam()) {
                ram.copyFrom(buffer, 0, transfer.destination(), bytes);
            } else {
                context.dmaWrite(transfer.destination(), buffer, 0, bytes);
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return e.getMessage();
        }
    }

    /** Device reset: every DMA register back to 0, DMA_STATUS idle. */
    void reset() {
        source = 0;
        destination = 0;
        length = 0;
        status = DMA_IDLE;
        count = 0;
    }

    long count() {
        return count;
    }

    long totalTransfers() {
        return totalTransfers;
    }

    long totalErrors() {
        return totalErrors;
    }
}
