package io.jvfio.devices.testdevice;

import java.lang.System.Logger.Level;

/**
 * The countdown of one line: fires once, or every period at a fixed rate from its start (a late fire is
 * caught up), until stopped. Guarded by the device's lock, which each fire takes before calling back.
 */
final class LineTimer {
    private static final System.Logger LOG = System.getLogger(TestDevice.class.getName());

    /** What a fire does; called with the device's lock held. */
    interface Fire {
        /** @param periodic whether the countdown goes on (it may be stopped from here) */
        void fired(boolean periodic);
    }

    private final int line;
    private final Object lock;
    private final TimerScheduler scheduler;
    private final Fire fire;
    private TimerScheduler.Scheduled scheduled;
    /** Bumped by every stop, so a fire already on its way does nothing. */
    private long generation;

    private long periodNanos;
    private boolean periodic;
    private long nextDue;
    private boolean closed;

    LineTimer(int line, Object lock, TimerScheduler scheduler, Fire fire) {
        this.line = line;
        this.lock = lock;
        this.scheduler = scheduler;
        this.fire = fire;
    }

    /**
     * Starts a countdown of {@code periodNanos}, stopping the one running.
     *
     * @return false once closed: nothing starts
     */
    boolean start(long periodNanos, boolean periodic) {
        stop();
        if (closed) {
            return false;
        }
        this.periodNanos = periodNanos;
        this.periodic = periodic;
        nextDue = scheduler.nanoTime() + periodNanos;
        scheduleNext();
        return true;
    }

    void stop() {
        generation++;
        if (scheduled != null) {
            scheduled.cancel();
            scheduled = null;
        }
    }

    /** Stops the countdown for good: the device is closing. */
    void close() {
        stop();
        closed = true;
    }

    private void scheduleNext() {
        long current = generation;
        scheduled = scheduler.schedule(Math.max(0, nextDue - scheduler.nanoTime()), () -> fired(current));
    }

    private void fired(long firing) {
        synchronized (lock) {
            if (firing != generation) {
                return;
            }
            scheduled = null;
            if (periodic) {
                // Before the callback, so that a callback that stops the countdown cancels this one.
                nextDue += periodNanos;
                scheduleNext();
            } else {
                generation++;
            }
            try {
                fire.fired(periodic);
            } catch (RuntimeException e) {
                // The device stays alive and a periodic countdown goes on.
                LOG.log(Level.ERROR, "test-device: timer of line " + line + " failed", e);
            }
        }
    }
}
