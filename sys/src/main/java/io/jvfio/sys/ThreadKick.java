package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Kicks one thread out of a blocking system call (KVM_RUN, epoll_wait) with SIGURG. SIGURG's handler is a
 * no-op libc function, installed once per process: the call returns EINTR and nothing else happens (no
 * Java runs in signal context). {@link #bindCurrentThread()} on the thread to be kicked unblocks SIGURG
 * there; {@link #kick()} works from any thread until that thread calls {@link #release()}, which restores
 * its signal mask.
 *
 * <p>The bound thread may also have itself kicked by the kernel, every period until it says stop
 * ({@link #kickEvery}): a POSIX timer that signals that thread alone, made on first use and deleted by
 * {@link #release()}. Arming and disarming it are one system call each on the bound thread, and nothing
 * else wakes up for it.
 */
public final class ThreadKick {
    private static final long SIGURG_BIT = 1L << (Libc.SIGURG - 1);
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final Thread thread;
    private final int pid;
    private final int tid;
    private final long savedSignalMask;
    /** The timer of {@link #kickEvery} and its itimerspec, made on first use on the bound thread. */
    private Arena timerArena;

    private MemorySegment timerSpec;
    private int timer;
    private boolean timerArmed;

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

    /**
     * On the bound thread: from now on the kernel kicks it after {@code firstNanos}, then every {@code
     * periodNanos}, until {@link #stopKicks()} (both > 0). Periodic rather than once, so a kick that lands
     * before the blocking call it was meant for is followed by another inside it.
     */
    public void kickEvery(long firstNanos, long periodNanos) throws ErrnoException {
        if (firstNanos <= 0 || periodNanos <= 0) {
            throw new IllegalArgumentException(
                    "kicks need a positive delay and period, got " + firstNanos + " ns and " + periodNanos + " ns");
        }
        checkOnBoundThread("armed");
        if (timerArena == null) {
            Arena arena = Arena.ofConfined();
            try {
                timer = Libc.threadTimerCreate(Libc.CLOCK_MONOTONIC, Libc.SIGURG, tid);
            } catch (ErrnoException e) {
                arena.close();
                throw e;
            }
            timerArena = arena;
            timerSpec = arena.allocate(JAVA_LONG, 4);
        }
        setTimer(firstNanos, periodNanos);
        timerArmed = true;
    }

    /** On the bound thread: ends the kicks of {@link #kickEvery}; does nothing if none are armed. */
    public void stopKicks() throws ErrnoException {
        if (timerArmed) {
            setTimer(0, 0);
            timerArmed = false;
        }
    }

    private void setTimer(long firstNanos, long periodNanos) throws ErrnoException {
        timerSpec.setAtIndex(JAVA_LONG, 0, periodNanos / NANOS_PER_SECOND);
        timerSpec.setAtIndex(JAVA_LONG, 1, periodNanos % NANOS_PER_SECOND);
        timerSpec.setAtIndex(JAVA_LONG, 2, firstNanos / NANOS_PER_SECOND);
        timerSpec.setAtIndex(JAVA_LONG, 3, firstNanos % NANOS_PER_SECOND);
        Libc.timerSettime(timer, timerSpec);
    }

    /** Deletes the kick timer if one was made and restores the bound thread's signal mask; called on that thread. */
    public void release() throws ErrnoException {
        checkOnBoundThread("released");
        try {
            if (timerArena != null) {
                try {
                    Libc.timerDelete(timer);
                } finally {
                    timerArena.close();
                    timerArena = null;
                    timerArmed = false;
                }
            }
        } finally {
            Libc.signalMask(Libc.SIG_SETMASK, savedSignalMask);
        }
    }

    private void checkOnBoundThread(String what) {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("the kick of " + thread.getName() + " is " + what + " on "
                    + Thread.currentThread().getName());
        }
    }
}
