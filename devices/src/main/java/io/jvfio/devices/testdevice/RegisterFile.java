package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;

import io.jvfio.vfiouser.server.RegionHandler;

/**
 * Region 0, the register file: decodes offsets to the device-wide registers, the line blocks and the
 * DMA engine. Reads are assembled byte by byte from the 32-bit registers (no register has read side
 * effects), so any size and alignment reads what a little-endian register file holds. Writes act only
 * when 4 bytes at a 4-aligned offset, or 8 bytes at a 4-aligned offset (two 32-bit writes, low word
 * first); the rest are ignored. Takes the device's lock, except for a DMA transfer's copy.
 */
final class RegisterFile implements RegionHandler {
    private final Object lock;
    private final TestDeviceLine[] lines;
    private final int levelMask;
    private final DmaEngine dma;
    private final IgnoredAccesses ignored;
    /** The RESET register: the device's reset. */
    private final Runnable reset;

    RegisterFile(
            Object lock,
            TestDeviceLine[] lines,
            int levelMask,
            DmaEngine dma,
            IgnoredAccesses ignored,
            Runnable reset) {
        this.lock = lock;
        this.lines = lines;
        this.levelMask = levelMask;
        this.dma = dma;
        this.ignored = ignored;
        this.reset = reset;
    }

    @Override
    public long read(long offset, int size) {
        synchronized (lock) {
            long value = 0;
            for (int i = 0; i < size; i++) {
                value |= (long) readByte(offset + i) << (8 * i);
            }
            return value;
        }
    }

    @Override
    public void read(long offset, byte[] destination) {
        synchronized (lock) {
            for (int i = 0; i < destination.length; i++) {
                destination[i] = (byte) readByte(offset + i);
            }
        }
    }

    private int readByte(long offset) {
        if (offset < 0 || offset >= REGS_SIZE) {
            return 0;
        }
        int word = readRegister((int) offset & ~3);
        return (word >>> (8 * ((int) offset & 3))) & 0xFF;
    }

    private int readRegister(int offset) {
        switch (offset) {
            case ID:
                return ID_VALUE;
            case VERSION:
                return VERSION_VALUE;
            case IRQ_COUNT:
                return lines.length;
            case STATUS:
                return TestDeviceLine.status(lines);
            case TRIGGER_MODE:
                return levelMask;
            default:
                break;
        }
        if (offset >= DMA_SRC && offset <= DMA_COUNT) {
            return dma.read(offset);
        }
        int line = lineOf(offset);
        return line < 0 ? 0 : lines[line].read((offset - LINE_BASE) % LINE_STRIDE);
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset < 0 || offset > REGS_SIZE - size || (offset & 3) != 0 || (size != 4 && size != 8)) {
            ignoreWrite(size, offset);
            return;
        }
        writeRegister((int) offset, (int) value);
        if (size == 8) {
            writeRegister((int) offset + 4, (int) (value >>> 32));
        }
    }

    @Override
    public void write(long offset, byte[] source) {
        ignoreWrite(source.length, offset);
    }

    private void ignoreWrite(int size, long offset) {
        synchronized (lock) {
            ignored.record(size + "-byte register write at 0x" + Long.toHexString(offset)
                    + " (only aligned 4- and 8-byte writes act)");
        }
    }

    /** A 32-bit write at an aligned offset. A DMA transfer copies outside the lock. */
    private void writeRegister(int offset, int value) {
        if (offset == DMA_CTRL) {
            dma.control(value);
            return;
        }
        synchronized (lock) {
            switch (offset) {
                case RESET -> {
                    if ((value & 1) != 0) {
                        reset.run();
                    }
                }
                case ACK -> {
                    for (int line = 0; line < lines.length; line++) {
                        if ((value & (1 << line)) != 0) {
                            lines[line].ack();
                        }
                    }
                }
                case RAISE -> {
                    for (int line = 0; line < lines.length; line++) {
                        if ((value & (1 << line)) != 0) {
                            lines[line].raise();
                        }
                    }
                }
                default -> {
                    if (!writeElsewhere(offset, value)) {
                        ignored.record("write to read-only or unknown register 0x" + Integer.toHexString(offset));
                    }
                }
            }
        }
    }

    private boolean writeElsewhere(int offset, int value) {
        if (offset >= DMA_SRC && offset <= DMA_COUNT) {
            return dma.write(offset, value);
        }
        int line = lineOf(offset);
        return line >= 0 && lines[line].write((offset - LINE_BASE) % LINE_STRIDE, value);
    }

    /** The line whose block holds {@code offset}, or -1. */
    private int lineOf(int offset) {
        if (offset < LINE_BASE || offset >= LINE_BASE + lines.length * LINE_STRIDE) {
            return -1;
        }
        return (offset - LINE_BASE) / LINE_STRIDE;
    }
}
