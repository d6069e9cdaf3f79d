package io.jvfio.devices.testdevice;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The real clock of the test device's timers: one daemon thread ({@code jvfio test-device timers}),
 * started at the first timer start, so a device that never starts one costs no thread. Closing it ends
 * the thread.
 */
final class TimerThread implements TimerScheduler, AutoCloseable {
    static final String NAME = "jvfio test-device timers";

    private ScheduledThreadPoolExecutor executor;
    private boolean closed;

    @Override
    public synchronized Scheduled schedule(long delayNanos, Runnable task) {
        if (closed) {
            throw new IllegalStateException("the test device's timer thread is closed");
        }
        if (executor == null) {
            executor = new ScheduledThreadPoolExecutor(
                    1, Thread.ofPlatform().daemon().name(NAME).factory());
            executor.setRemoveOnCancelPolicy(true);
            executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        }
        ScheduledFuture<?> future = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    /** Ends the thread; call it without holding the device's lock, which a timer that is firing may wait for. */
    @Override
    public void close() {
        ScheduledThreadPoolExecutor stopping;
        synchronized (this) {
            closed = true;
            stopping = executor;
            executor = null;
        }
        if (stopping == null) {
            return;
        }
        stopping.shutdownNow();
        try {
            stopping.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
