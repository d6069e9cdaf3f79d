package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.ServedTestDevice.assertQuiet;
import static io.jvfio.devices.testdevice.ServedTestDevice.awaitSignals;
import static io.jvfio.devices.testdevice.ServedTestDevice.eventually;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jvfio.sys.EventFd;

/** The per-line countdown timers: one-shot, periodic with a fire budget, stop and reset. */
class TestDeviceTimerTest {
    private static final int EDGE = 0;
    private static final int LEVEL = 1;

    @TempDir
    Path directory;
    ServedTestDevice served;

    @BeforeEach
    void start() throws Exception {
        served = ServedTestDevice.start(directory, 2, 1 << LEVEL);
    }

    @AfterEach
    void stop() throws Exception {
        served.close();
    }

    private boolean enabled(int line) {
        try {
            return (served.readLine(line, TIMER_CTRL) & TIMER_ENABLE) != 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void oneShotTimerRaisesItsLineOnceAndClearsEnable() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 2_000);

        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE);

        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);
        assertThat(eventually(2000, () -> !enabled(EDGE))).isTrue();
        assertQuiet(trigger, 50);
        assertThat(served.readLine(EDGE, RAISE_COUNT)).isEqualTo(1);
        assertThat(served.read(STATUS)).isEqualTo(1 << EDGE);
    }

    @Test
    void oneShotTimerOnALevelLineAssertsIt() throws Exception {
        EventFd trigger = served.trigger(LEVEL);
        served.writeLine(LEVEL, TIMER_PERIOD_US, 1_000);

        served.writeLine(LEVEL, TIMER_CTRL, TIMER_ENABLE);

        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);
        assertThat(served.read(STATUS)).isEqualTo(1 << LEVEL);
    }

    @Test
    void periodicTimerWithFiveRemainingFiresExactlyFiveTimes() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 2_000);
        served.writeLine(EDGE, TIMER_REMAINING, 5);

        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);

        assertThat(eventually(3000, () -> !enabled(EDGE))).as("timer stopped itself").isTrue();
        Thread.sleep(30);
        assertThat(trigger.drain()).isEqualTo(5);
        assertThat(served.readLine(EDGE, RAISE_COUNT)).isEqualTo(5);
        assertThat(served.readLine(EDGE, TIMER_REMAINING)).isZero();
        assertThat(served.readLine(EDGE, TIMER_CTRL)).isEqualTo(TIMER_PERIODIC);
        assertThat(served.device.totalCounters().timerFires()).isEqualTo(5);
    }

    @Test
    void periodicTimerWithZeroRemainingRunsUntilDisabled() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 1_000);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
        assertThat(eventually(3000, () -> served.device.counters().raises(EDGE) >= 10)).isTrue();

        served.writeLine(EDGE, TIMER_CTRL, 0);
        long stoppedAt = served.device.counters().raises(EDGE);
        Thread.sleep(30);

        assertThat(served.device.counters().raises(EDGE)).isEqualTo(stoppedAt);
        assertThat(enabled(EDGE)).isFalse();
        assertThat(trigger.drain()).isEqualTo(stoppedAt);
    }

    @Test
    void periodsBelowTheMinimumStillFire() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, TIMER_PERIOD_US, 0);

        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE);

        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);
    }

    @Test
    void resetStopsARunningTimer() throws Exception {
        served.writeLine(EDGE, TIMER_PERIOD_US, 1_000);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
        assertThat(eventually(3000, () -> served.device.counters().raises(EDGE) >= 2)).isTrue();

        served.client.reset();
        Thread.sleep(30);

        assertThat(served.device.counters().raises(EDGE)).isZero();
        assertThat(served.readLine(EDGE, TIMER_CTRL)).isZero();
    }

    @Test
    void closingTheModelStopsItsTimerThread() throws Exception {
        served.writeLine(EDGE, TIMER_PERIOD_US, 1_000);
        served.writeLine(EDGE, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
        assertThat(eventually(3000, () -> served.device.counters().raises(EDGE) >= 1)).isTrue();

        served.device.close();

        assertThat(eventually(1000, () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("jvfio test-device timers")))).as("timer thread ended").isTrue();
        long stoppedAt = served.device.counters().raises(EDGE);
        Thread.sleep(20);
        assertThat(served.device.counters().raises(EDGE)).isEqualTo(stoppedAt);
    }
}
