package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** poll(2) on one descriptor, on a thread the kernel keeps kicking as a vCPU thread is kicked. */
class PollerTest {
    /** Runs {@code body} on a platform thread that is kicked every millisecond while it runs. */
    private static <T> T whileKickedEveryMillisecond(ThrowingSupplier<T> body) throws Exception {
        CompletableFuture<T> done = new CompletableFuture<>();
        Thread.ofPlatform().name("kicked poller").start(() -> {
            try {
                ThreadKick kick = ThreadKick.bindCurrentThread();
                try {
                    kick.kickEvery(
                            Duration.ofMillis(1).toNanos(), Duration.ofMillis(1).toNanos());
                    done.complete(body.get());
                } finally {
                    kick.release();
                }
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done.get(1, TimeUnit.MINUTES);
    }

    @FunctionalInterface
    private interface ThrowingSupplier<T> {
        T get() throws Exception;
    }

    @Test
    @Timeout(60)
    void signalsDoNotEndAWaitBeforeItsTimeout() throws Exception {
        try (EventFd idle = EventFd.create()) {
            long waited = whileKickedEveryMillisecond(() -> {
                long start = System.nanoTime();
                assertThat(Poller.readable(idle.fd(), 300)).isFalse();
                return System.nanoTime() - start;
            });
            assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
        }
    }

    @Test
    @Timeout(60)
    void aWaitWithoutTimeoutEndsOnlyWhenTheFdIsReadable() throws Exception {
        try (EventFd later = EventFd.create()) {
            Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(200);
                    later.signal();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(whileKickedEveryMillisecond(() -> Poller.readable(later.fd(), -1)))
                    .isTrue();
        }
    }
}
