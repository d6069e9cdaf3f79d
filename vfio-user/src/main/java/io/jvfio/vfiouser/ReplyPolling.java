package io.jvfio.vfiouser;

import java.io.IOException;
import java.time.Duration;

/**
 * Polls a channel for a reply before a call blocks in its receive, for a window that adapts to how
 * long the replies take. A receive that blocks pays a wake-up when the reply comes (the scheduler, and
 * a CPU leaving its idle state) that a poll does not, while the caller has nothing else to do: a vCPU
 * thread waits for its trapped access. The rule is that of KVM's halt polling (halt_poll_ns): a reply
 * within the window leaves it as it is; one later than the window but within the maximum widens it to
 * cover that wait with a quarter to spare; one later than the maximum halves it, and below
 * {@link #START_NANOS} closes it, so a peer that answers slowly costs a poll and two clock reads a
 * call. A reply already there at the first poll, window open or not, is taken without a clock read and
 * changes nothing.
 *
 * <p>A poll on the peer's only CPU delays the reply it waits for, so on a process that may run on one
 * CPU only (its affinity, or its cgroup's quota) the window never opens.
 *
 * <p>One receive at a time (a session's calls are serialised): the window and the counters are written
 * by the thread that holds the call, and read by any.
 */
public final class ReplyPolling {
    /** The window a wait within the maximum opens at least. */
    static final long START_NANOS = 10_000;
    /**
     * The clock is read every this many polls: where clock_gettime is a system call (the nested guest's
     * HPET), a clock read after each poll would halve the polls' rate.
     */
    private static final int POLLS_PER_CLOCK_READ = 4;

    private final long maxNanos;
    private volatile long windowNanos;
    private volatile long polledReplies;
    private volatile long blockedReplies;

    private ReplyPolling(long maxNanos) {
        this.maxNanos = maxNanos;
    }

    /** Receives that never poll. */
    public static ReplyPolling off() {
        return new ReplyPolling(0);
    }

    /**
     * Polling with windows up to {@code max}; off where {@code max} is zero or the process may use one
     * CPU only.
     */
    public static ReplyPolling upTo(Duration max) {
        return upTo(max, Runtime.getRuntime().availableProcessors());
    }

    static ReplyPolling upTo(Duration max, int cpus) {
        if (max.isNegative()) {
            throw new IllegalArgumentException("a reply polling window cannot be negative: " + max);
        }
        return new ReplyPolling(cpus < 2 ? 0 : max.toNanos());
    }

    /** The maximum window; zero when polling is off. */
    public Duration max() {
        return Duration.ofNanos(maxNanos);
    }

    /** What the polling did so far. */
    public Stats stats() {
        return new Stats(polledReplies, blockedReplies, Duration.ofNanos(windowNanos), max());
    }

    /**
     * @param polled receives whose message a poll found
     * @param blocked receives that blocked
     * @param window the window now
     * @param max the largest window; zero when polling is off
     */
    public record Stats(long polled, long blocked, Duration window, Duration max) {}

    /**
     * The next message, as {@link Channel#receiveWithoutFds} reads it, after polling for it within the
     * window.
     */
    Channel.Incoming receiveWithoutFds(Channel channel) throws IOException {
        if (channel.hasBuffered()) {
            return channel.receiveWithoutFds();
        }
        if (maxNanos == 0) {
            Channel.Incoming incoming = channel.receiveWithoutFds();
            blockedReplies++;
            return incoming;
        }
        // A reply already waiting needs no clock and leaves the window as it is: the peer may have run on
        // the caller's CPU while the caller waited for it, and then the reply is there when the caller runs
        // again. Where clock_gettime is a system call (a nested guest), each read costs microseconds.
        if (channel.pollWithoutFds()) {
            polledReplies++;
            return channel.receiveWithoutFds();
        }
        long began = System.nanoTime();
        if (windowNanos > 0 && polledWithin(channel, began)) {
            polledReplies++;
            return channel.receiveWithoutFds();
        }
        Channel.Incoming incoming = channel.receiveWithoutFds();
        blockedReplies++;
        blockedFor(System.nanoTime() - began);
        return incoming;
    }

    private boolean polledWithin(Channel channel, long began) throws IOException {
        long window = windowNanos;
        while (true) {
            for (int i = 0; i < POLLS_PER_CLOCK_READ; i++) {
                if (channel.pollWithoutFds()) {
                    return true;
                }
                Thread.onSpinWait();
            }
            if (System.nanoTime() - began >= window) {
                return false;
            }
        }
    }

    /** Adapts the window to a receive that blocked and, polls included, waited {@code waitedNanos}. */
    void blockedFor(long waitedNanos) {
        long window = windowNanos;
        if (waitedNanos <= maxNanos) {
            windowNanos = Math.min(maxNanos, Math.max(START_NANOS, waitedNanos + waitedNanos / 4));
        } else if (window > 0) {
            windowNanos = window / 2 < START_NANOS ? 0 : window / 2;
        }
    }
}
