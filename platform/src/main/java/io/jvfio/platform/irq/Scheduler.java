package io.jvfio.platform.irq;

/** Runs a task once after a delay; the machine's event loop on a real machine. */
public interface Scheduler {
    /** Schedules {@code task} in {@code delayNanos}; the returned handle cancels it if not yet run. */
    Cancellable schedule(long delayNanos, Runnable task);

    /** The clock delays are measured on. */
    default long nanoTime() {
        return System.nanoTime();
    }

    /** A scheduled task that has not run yet. */
    interface Cancellable {
        void cancel();
    }
}
