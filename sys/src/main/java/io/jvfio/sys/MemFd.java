package io.jvfio.sys;

import io.jvfio.sys.libc.Libc;

/** memfd_create(2): anonymous memory with an fd, so another process (a vfio-user peer) can map it too. */
public final class MemFd {
    private static final int MFD_CLOEXEC = 1;

    private MemFd() {}

    /** A new memfd of {@code size} zero bytes. */
    public static Fd create(String name, long size) throws ErrnoException {
        Fd fd = Fd.adopt(Libc.memfdCreate(name, MFD_CLOEXEC), "memfd " + name);
        try {
            resize(fd, size);
            return fd;
        } catch (ErrnoException e) {
            fd.close();
            throw e;
        }
    }

    /** ftruncate(2): grows the memfd with zero bytes, or shrinks it under whoever mapped it. */
    public static void resize(Fd memfd, long size) throws ErrnoException {
        Libc.ftruncate(memfd.get(), size);
    }
}
