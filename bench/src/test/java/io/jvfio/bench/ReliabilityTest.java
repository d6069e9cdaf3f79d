package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ReliabilityTest {
    private static final Duration SHORT = Duration.ofMillis(100);

    @Test
    void withinStopsAndJoinsTheThreadOfACallThatTimesOut() {
        AtomicReference<Thread> thread = new AtomicReference<>();

        assertThatThrownBy(() -> Reliability.within(
                        () -> {
                            thread.set(Thread.currentThread());
                            Thread.sleep(Duration.ofMinutes(10));
                            return null;
                        },
                        "a sleep",
                        SHORT))
                .isInstanceOf(AssertionError.class)
                .hasMessage("a sleep did not finish within PT0.1S");

        assertThat(thread.get().isAlive()).isFalse();
    }

    @Test
    void withinNamesAThreadThatIgnoresTheInterrupt() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Thread> thread = new AtomicReference<>();
        try {
            assertThatThrownBy(() -> Reliability.within(
                            () -> {
                                thread.set(Thread.currentThread());
                                while (release.getCount() > 0) {
                                    try {
                                        release.await(1, TimeUnit.MINUTES);
                                    } catch (InterruptedException ignored) {
                                        // deaf: as a call blocked in a system call would be
                                    }
                                }
                                return null;
                            },
                            "a deaf call",
                            SHORT))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("still runs");
        } finally {
            release.countDown();
        }
        thread.get().join(Duration.ofSeconds(10));
    }

    @Test
    void withinReturnsTheResultAndLeavesNoThread() throws Exception {
        AtomicReference<Thread> thread = new AtomicReference<>();

        String result = Reliability.within(
                () -> {
                    thread.set(Thread.currentThread());
                    return "answered";
                },
                "a quick call",
                Duration.ofSeconds(10));

        assertThat(result).isEqualTo("answered");
        assertThat(thread.get().isAlive()).isFalse();
    }

    @Test
    void withinRethrowsTheCallsException() {
        IOException failure = new IOException("refused");

        assertThatThrownBy(() -> Reliability.within(
                        () -> {
                            throw failure;
                        },
                        "a refused call",
                        Duration.ofSeconds(10)))
                .isSameAs(failure);
    }
}
