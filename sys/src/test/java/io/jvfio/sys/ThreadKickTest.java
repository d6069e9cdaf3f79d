package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.testing.Resources;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A thread that has the kernel kick it: its blocking calls end again and again until it stops the kicks. */
class ThreadKickTest {
    private static final int TEN_MINUTES_MILLIS = (int) TimeUnit.MINUTES.toMillis(10);

    /** Runs {@code body} on a fresh platform thread bound to its kick, then releases the kick there. */
    private static void onBoundThread(ThrowingConsumer body) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().name("kicked thread").start(() -> {
            try {
                ThreadKick kick = ThreadKick.bindCurrentThread();
                try {
                    body.accept(kick);
                } finally {
                    kick.release();
                }
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        done.get(5, TimeUnit.MINUTES);
    }

    @FunctionalInterface
    private interface ThrowingConsumer {
        void accept(ThreadKick kick) throws Exception;
    }

    @Test
    @Timeout(300)
    void kicksEveryPeriodEndEachBlockingWaitUntilStoppedAndTheTimerGoesWithTheRelease() throws Exception {
        int timersBefore = Resources.posixTimers();
        onBoundThread(kick -> {
            try (Epoll epoll = Epoll.create(1)) {
                kick.kickEvery(
                        Duration.ofMillis(1).toNanos(), Duration.ofMillis(1).toNanos());
                assertThat(Resources.posixTimers()).isEqualTo(timersBefore + 1);
                for (int wait = 0; wait < 3; wait++) {
                    // Nothing is registered: only a signal ends a ten-minute wait early.
                    assertThat(epoll.await(TEN_MINUTES_MILLIS)).isZero();
                }
                kick.stopKicks();
                long start = System.nanoTime();
                assertThat(epoll.await(200)).isZero();
                assertThat(System.nanoTime() - start)
                        .as("a wait after stopKicks runs to its timeout")
                        .isGreaterThanOrEqualTo(Duration.ofMillis(200).toNanos());
                kick.kickEvery(
                        Duration.ofMillis(2).toNanos(), Duration.ofMillis(1).toNanos());
                assertThat(epoll.await(TEN_MINUTES_MILLIS)).isZero();
            }
        });
        assertThat(Resources.posixTimers()).isEqualTo(timersBefore);
    }

    @Test
    @Timeout(300)
    void stoppingKicksThatWereNeverArmedDoesNothing() throws Exception {
        int timersBefore = Resources.posixTimers();
        onBoundThread(kick -> {
            kick.stopKicks();
            assertThat(Resources.posixTimers()).isEqualTo(timersBefore);
        });
    }

    @Test
    @Timeout(300)
    void kicksNeedAPositiveDelayAndPeriod() throws Exception {
        onBoundThread(kick -> {
            assertThatThrownBy(() -> kick.kickEvery(0, 1_000_000))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("kicks need a positive delay and period, got 0 ns and 1000000 ns");
            assertThatThrownBy(() -> kick.kickEvery(1_000_000, -1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("kicks need a positive delay and period, got 1000000 ns and -1 ns");
        });
    }

    @Test
    @Timeout(300)
    void onlyTheBoundThreadArmsItsKicks() throws Exception {
        CompletableFuture<ThreadKick> bound = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        Thread owner = Thread.ofPlatform().name("kick owner").start(() -> {
            try {
                ThreadKick kick = ThreadKick.bindCurrentThread();
                bound.complete(kick);
                release.get();
                kick.release();
            } catch (Exception e) {
                bound.completeExceptionally(e);
            }
        });
        try {
            ThreadKick kick = bound.get(1, TimeUnit.MINUTES);
            assertThatThrownBy(() -> kick.kickEvery(1_000_000, 1_000_000))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("the kick of kick owner is armed on "
                            + Thread.currentThread().getName());
        } finally {
            release.complete(null);
            owner.join();
        }
    }
}
