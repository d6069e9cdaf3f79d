package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
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

    @Test
    void theDefaultStormMayRunTenMinutesAndTenMillisecondsAnInterrupt() {
        assertThat(Reliability.stormLimit(500_000, null)).isEqualTo(Duration.ofSeconds(600 + 5_000));
        assertThat(Reliability.stormLimit(2_000, "")).isEqualTo(Duration.ofSeconds(600 + 20));
    }

    @Test
    void theKnobSetsTheStormsLimitInMinutes() {
        assertThat(Reliability.stormLimit(500_000, "30")).isEqualTo(Duration.ofMinutes(30));
    }

    @Test
    void aKnobThatIsNotMinutesAboveZeroIsRefusedNamingIt() {
        for (String bad : List.of("0", "-5", "1.5", "soon")) {
            assertThatThrownBy(() -> Reliability.stormLimit(10, bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("BENCH_STORM_MINUTES=" + bad);
        }
    }

    @Test
    void aStormWhoseGuestNeverExitsEndsAtItsLimitNamingThePathAndHowFarItGot() {
        AtomicLong clock = new AtomicLong(1_000);
        AtomicLong accesses = new AtomicLong();
        List<String> progress = new ArrayList<>();
        // A guest that handles 100 interrupts a minute for three minutes and then none.
        Reliability.GuestExit stuck = timeout -> {
            clock.addAndGet(timeout.toNanos());
            if (clock.get() <= 1_000 + Duration.ofMinutes(3).toNanos()) {
                accesses.addAndGet(200);
            }
            throw new TimeoutException("vCPU 0 in KVM_RUN");
        };
        var wait = new Reliability.StormWait("irqfd", 2_000, Duration.ofSeconds(330), Duration.ofMinutes(1));

        assertThatThrownBy(() -> wait.await(stuck, accesses::get, clock::get, 1_000, progress::add))
                .isInstanceOf(TimeoutException.class)
                .hasMessage("storm (irqfd): the guest did not exit within 5 min, the limit for 2000 interrupts"
                        + " (BENCH_STORM_MINUTES): about 300 handled, 0 of them in the last 30 s")
                .cause()
                .hasMessage("vCPU 0 in KVM_RUN");

        assertThat(clock.get() - 1_000)
                .as("waited to the limit, not past it")
                .isEqualTo(Duration.ofSeconds(330).toNanos());
        assertThat(progress)
                .startsWith("storm (irqfd): 60 s, about 100 interrupts so far")
                .hasSize(5);
    }

    @Test
    void aStormWhoseGuestExitsReturnsItsExitCode() throws Exception {
        AtomicLong clock = new AtomicLong();
        List<String> progress = new ArrayList<>();
        int[] waits = {0};
        Reliability.GuestExit slow = timeout -> {
            clock.addAndGet(timeout.toNanos());
            if (++waits[0] < 3) {
                throw new TimeoutException();
            }
            return 0;
        };
        var wait = new Reliability.StormWait("user-side", 2_000, Duration.ofMinutes(10), Duration.ofMinutes(1));

        int code = wait.await(slow, () -> 0, clock::get, 0, progress::add);

        assertThat(code).isZero();
        assertThat(progress).hasSize(2);
    }
}
