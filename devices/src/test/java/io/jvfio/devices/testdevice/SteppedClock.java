package io.jvfio.devices.testdevice;

import java.time.Duration;
import java.util.PriorityQueue;

/**
 * A {@link TimerScheduler} whose clock moves only when a test advances it: the timers that come due run
 * on the test's thread, in due order, each at its own due time (so a periodic timer that schedules its
 * next fire from the clock sees the time it was due).
 */
final class SteppedClock implements TimerScheduler {
    private record Task(long due, long order, Runnable action) {}

    private final PriorityQueue<Task> tasks = new PriorityQueue<>(
            (a, b) -> a.due() != b.due() ? Long.compare(a.due(), b.due()) : Long.compare(a.order(), b.order()));
    private long now;
    private long scheduled;

    @Override
    public synchronized Scheduled schedule(long delayNanos, Runnable action) {
        Task task = new Task(now + delayNanos, scheduled++, action);
        tasks.add(task);
        return () -> {
            synchronized (this) {
                tasks.remove(task);
            }
        };
    }

    @Override
    public synchronized long nanoTime() {
        return now;
    }

    /** Moves the clock on by {@code step}, running every timer due meanwhile. */
    void advance(Duration step) {
        long target;
        synchronized (this) {
            target = now + step.toNanos();
        }
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
                if (next == null || next.due() > target) {
                    now = target;
                    return;
                }
                tasks.poll();
                now = Math.max(now, next.due());
            }
            // Outside this object's lock: a timer takes the device's lock, which schedules under it.
            next.action().run();
        }
    }

    /** Timers scheduled and not yet run or cancelled. */
    synchronized int pending() {
        return tasks.size();
    }
}
