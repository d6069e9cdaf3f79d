package io.jvfio.devices.testdevice;

/**
 * The clock the test device's countdown timers run on, and what runs them when they come due, as
 * platform's IRQ state machine has its own: {@link TimerThread} on a real device; tests inject one whose
 * clock moves only when they advance it.
 */
interface TimerScheduler {
    /** Runs {@code task} once, {@code delayNanos} from now on {@link #nanoTime}; the handle cancels it if not yet run. */
    Scheduled schedule(long delayNanos, Runnable task);

    /** The clock delays are measured on. */
    long nanoTime();

    /** A scheduled task that has not run yet. */
    interface Scheduled {
        void cancel();
    }
}
