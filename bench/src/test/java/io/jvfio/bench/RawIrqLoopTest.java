package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.ErrnoException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RawIrqLoopTest {
    private static final int EBADF = 9;

    @Test
    void closingTheInjectorWakesItAndWaitsForItToEnd() throws Exception {
        LinkedBlockingQueue<Long> eventfd = new LinkedBlockingQueue<>();
        AtomicReference<Thread> thread = new AtomicReference<>();
        RawIrqLoop.Injector injector = new RawIrqLoop.Injector("test-injector", () -> eventfd.add(1L), done -> {
            thread.set(Thread.currentThread());
            try {
                while (true) {
                    eventfd.take();
                    if (done.getAsBoolean()) {
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        injector.close();

        assertThat(thread.get().isAlive()).isFalse();
    }

    @Test
    void aWakeThatThrowsStillWaitsForTheThreadAndThenRethrows() throws Exception {
        CountDownLatch endsByItself = new CountDownLatch(1);
        AtomicReference<Thread> thread = new AtomicReference<>();
        ErrnoException failure = new ErrnoException("write eventfd", EBADF);
        RawIrqLoop.Injector injector = new RawIrqLoop.Injector(
                "test-injector",
                () -> {
                    endsByItself.countDown();
                    throw failure;
                },
                done -> {
                    thread.set(Thread.currentThread());
                    try {
                        endsByItself.await();
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });

        assertThatThrownBy(injector::close).isSameAs(failure);
        assertThat(thread.get().isAlive()).as("joined before the rethrow").isFalse();
    }

    @Test
    void aThreadThatDoesNotEndIsAnExceptionNamingItAndTheFailedWake() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ErrnoException failure = new ErrnoException("write eventfd", EBADF);
        RawIrqLoop.Injector injector = new RawIrqLoop.Injector(
                "stuck-injector",
                () -> {
                    throw failure;
                },
                done -> {
                    try {
                        release.await(1, TimeUnit.MINUTES);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                Duration.ofMillis(100));
        try {
            assertThatThrownBy(injector::close)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("stuck-injector did not end")
                    .hasCause(failure);
        } finally {
            release.countDown();
        }
    }
}
