package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.ServedTestDevice.eventually;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.EventFd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-line countdown timers: one-shot, periodic with a fire budget, catch-up, stop, reset and close,
 * on a clock the tests advance; and once on the real clock, whose thread close ends.
 */
class TestDeviceTimerTest {
    private static final int EDGE = 0;
    private static final int LEVEL = 1;

    @TempDir
    Path directory;

    SteppedClock clock = new SteppedClock();
    ServedTestDevice served;

    @BeforeEach
    void start() throws Exception {
        served = ServedTestDevice.start(directory, 2, 1 << LEVEL, clock);
    }

    @AfterEach
    void stop() throws Exception {
        served.close();
    }

    private boolean enabled(int line) throws IOException {
        return (served.readLine(line, TIMER_CTRL) & TIMER_ENABLE) != 0;
    }

    private static Duration micros(long micros) {
        return Duration.ofNanos(micros * 1000);
    }

    @Test
    void oneShotTimerRaisesItsLineOnceAfterItsPeriodAndClearsEnable() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 2_000);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE);

        clock.advance(micros(1_999));
        assertThat(trigger.drain()).as("before the period").isZero();
        assertThat(enabled(EDGE)).isTrue();
        clock.advance(micros(1));

        assertThat(trigger.drain()).isEqualTo(1);
        assertThat(enabled(EDGE)).isFalse();
        assertThat(served.readLine(EDGE, TIMER_CTRL))
                .as("bit 1 stays as written")
                .isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(trigger.drain()).as("one-shot").isZero();
        assertThat(served.readLine(EDGE, RAISE_COUNT)).isEqualTo(1);
        assertThat(served.read(STATUS)).isEqualTo(1 << EDGE);
    }

    @Test
    void oneShotTimerOnALevelLineAssertsIt() throws Exception {
        EventFd trigger = served.trigger(LEVEL);
        served.writeLine(LEVEL, TIMER_PERIOD_US, 1_000);
        served.writeLine(LEVEL, TIMER_CTRL, TIMER_ENABLE);

        clock.advance(micros(1_000));

        assertThat(trigger.drain()).isEqualTo(1);
        assertThat(served.read(STATUS)).isEqualTo(1 << LEVEL);
    }

    @Test
    void periodicTimerFiresOncePerPeriodUntilDisabled() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 1_000);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);

        for (int period = 1; period <= 10; period++) {
            clock.advance(micros(1_000));
            assertThat(trigger.drain()).as("period %d", period).isEqualTo(1);
        }
        served.writeLine(EDGE, TIMER_CTRL, 0);
        clock.advance(Duration.ofSeconds(1));

        assertThat(trigger.drain()).isZero();
        assertThat(served.device.counters().raises(EDGE)).isEqualTo(10);
        assertThat(enabled(EDGE)).isFalse();
        assertThat(clock.pending()).as("nothing left scheduled").isZero();
    }

    @Test
    void periodicTimerThatFellBehindCatchesUpEveryPeriod() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 1_000);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);

        clock.advance(micros(10_500));

        assertThat(trigger.drain()).isEqualTo(10);
        clock.advance(micros(500));
        assertThat(trigger.drain()).as("the rate is fixed from the start").isEqualTo(1);
    }

    @Test
    void periodicTimerWithFiveRemainingFiresExactlyFiveTimes() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 2_000);
        served.writeLine(EDGE, TIMER_REMAINING, 5);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);

        clock.advance(Duration.ofSeconds(1));

        assertThat(trigger.drain()).isEqualTo(5);
        assertThat(served.readLine(EDGE, RAISE_COUNT)).isEqualTo(5);
        assertThat(served.readLine(EDGE, TIMER_REMAINING)).isZero();
        assertThat(served.readLine(EDGE, TIMER_CTRL))
                .as("enable cleared, periodic kept")
                .isEqualTo(TIMER_PERIODIC);
        assertThat(served.device.totalCounters().timerFires()).isEqualTo(5);
        assertThat(clock.pending()).isZero();
    }

    @Test
    void periodsBelowTheMinimumRunAtTheMinimum() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 0);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE);

        clock.advance(micros(TIMER_MIN_PERIOD_US - 1));
        assertThat(trigger.drain()).isZero();
        clock.advance(micros(1));

        assertThat(trigger.drain()).isEqualTo(1);
    }

    @Test
    void aNewPeriodTakesEffectAtTheNextWriteToTimerCtrl() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 1_000);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);

        served.writeLine(EDGE, TIMER_PERIOD_US, 5_000);
        clock.advance(micros(3_000));
        assertThat(trigger.drain()).as("still the old period").isEqualTo(3);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
        clock.advance(micros(4_999));
        assertThat(trigger.drain()).as("the write restarted the countdown").isZero();
        clock.advance(micros(1));

        assertThat(trigger.drain()).isEqualTo(1);
    }

    @Test
    void resetStopsARunningTimer() throws Exception {
        served.writeLine(EDGE, TIMER_PERIOD_US, 1_000);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
        clock.advance(micros(2_000));
        assertThat(served.device.counters().raises(EDGE)).isEqualTo(2);

        served.client.reset();
        clock.advance(Duration.ofSeconds(1));

        assertThat(served.device.counters().raises(EDGE)).isZero();
        assertThat(served.readLine(EDGE, TIMER_CTRL)).isZero();
        assertThat(clock.pending()).isZero();
    }

    @Test
    void closingTheModelStopsItsTimersAndIgnoresNewStarts() throws Exception {
        served.writeLine(EDGE, TIMER_PERIOD_US, 1_000);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
        clock.advance(micros(1_000));

        served.device.close();
        clock.advance(Duration.ofSeconds(1));
        served.writeLine(LEVEL, TIMER_CTRL, TIMER_ENABLE);
        clock.advance(Duration.ofSeconds(1));

        assertThat(served.device.counters().raises()).containsExactly(1, 0);
        assertThat(enabled(LEVEL)).as("a start after close clears enable").isFalse();
        assertThat(served.device.ignoredAccesses()).isEqualTo(1);
        assertThat(clock.pending()).isZero();
    }

    @Test
    void onTheRealClockTimersRunOnTheirOwnThreadWhichCloseEnds() throws Exception {
        Path real = Files.createDirectory(directory.resolve("real"));
        try (ServedTestDevice onRealClock = ServedTestDevice.start(real, 1, 0)) {
            onRealClock.writeLine(EDGE, TIMER_PERIOD_US, 1_000);
            onRealClock.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
            assertThat(eventually(3000, () -> onRealClock.device.counters().raises(EDGE) >= 2))
                    .isTrue();
            assertThat(Thread.getAllStackTraces().keySet())
                    .anyMatch(t -> t.getName().equals(TimerThread.NAME));

            onRealClock.device.close();

            assertThat(eventually(
                            1000,
                            () -> Thread.getAllStackTraces().keySet().stream()
                                    .noneMatch(t -> t.getName().equals(TimerThread.NAME))))
                    .as("timer thread ended")
                    .isTrue();
            long stoppedAt = onRealClock.device.counters().raises(EDGE);
            Thread.sleep(20);
            assertThat(onRealClock.device.counters().raises(EDGE)).isEqualTo(stoppedAt);
        }
    }
}
