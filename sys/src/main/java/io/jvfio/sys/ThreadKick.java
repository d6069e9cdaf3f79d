package io.jvfio.sys;

import io.jvfio.sys.libc.Libc;

/**
 * Kicks one thread out of a blocking system call (KVM_RUN, epoll_wait) with SIGURG. SIGURG's handler is a
 * no-op libc function, installed once per process: the call returns EINTR and nothing else happens (no
 * Java runs in signal context). {@link #bindCurrentThread()} on the thread to be kicked unblocks SIGURG
 * there; {@link #kick()} works from any thread until that thread calls {@link #release()}, which restores
 * its signal mask.
 */
public final class ThreadKick {
    private static final long SIGURG_BIT = 1L << (Libc.SIGURG - 1);

    private final Thread thread;
    private final int pid;
    private final int tid;
    private final long savedSignalMask;

    private ThreadKick(Thread thread, int pid, int tid, long savedSignalMask) {
        this.thread = thread;
        this.pid = pid;
        this.tid = tid;
        this.savedSignalMask = savedSignalMask;
    }

    /** Makes the calling thread kickable: installs the SIGURG handler if none is, and unblocks SIGURG. */
    public static ThreadKick bindCurrentThread() throws ErrnoException {
        Libc.interruptOnSignal(Libc.SIGURG);
        long saved = Libc.signalMask(Libc.SIG_UNBLOCK, SIGURG_BIT);
        return new ThreadKick(Thread.currentThread(), Libc.getpid(), Libc.gettid(), saved);
    }

    /** The thread this kicks. */
    public Thread thread() {
        return thread;
    }

    /**
     * tgkill(SIGURG): the bound thread's blocking call, or its next one, returns EINTR. Only before
     * {@link #release()}: the caller keeps the two apart, since an ended thread's id may be reused.
     */
    public void kick() {
        Libc.tgkill(pid, tid, Libc.SIGURG);
    }

    /** Restores the bound thread's signal mask; called on that thread. */
    public void release() throws ErrnoException {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("the kick of " + thread.getName() + " is released on "
                    + Thread.currentThread().getName());
        }
        Libc.signalMask(Libc.SIG_SETMASK, savedSignalMask);
    }
}
