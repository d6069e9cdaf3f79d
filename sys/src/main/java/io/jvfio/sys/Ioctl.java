package io.jvfio.sys;

/**
 * The {@code _IO/_IOR/_IOW/_IOWR} macros of asm-generic/ioctl.h, computed in Java since no header
 * tool can expand them. Tests pin the results against gcc.
 */
public final class Ioctl {
    private static final int NRBITS = 8;
    private static final int TYPEBITS = 8;
    private static final int SIZEBITS = 14;
    private static final int NRSHIFT = 0;
    private static final int TYPESHIFT = NRSHIFT + NRBITS;
    private static final int SIZESHIFT = TYPESHIFT + TYPEBITS;
    private static final int DIRSHIFT = SIZESHIFT + SIZEBITS;
    private static final int NONE = 0;
    private static final int WRITE = 1;
    private static final int READ = 2;

    private Ioctl() {}

    private static long encode(int direction, int type, int number, long size) {
        if (size < 0 || size >= (1 << SIZEBITS)) {
            throw new IllegalArgumentException("ioctl argument size out of range: " + size);
        }
        return ((long) direction << DIRSHIFT)
                | ((long) type << TYPESHIFT)
                | ((long) number << NRSHIFT)
                | (size << SIZESHIFT);
    }

    public static long io(int type, int number) {
        return encode(NONE, type, number, 0);
    }

    public static long ior(int type, int number, long size) {
        return encode(READ, type, number, size);
    }

    public static long iow(int type, int number, long size) {
        return encode(WRITE, type, number, size);
    }

    public static long iowr(int type, int number, long size) {
        return encode(READ | WRITE, type, number, size);
    }
}
