package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.ServedTestDevice.assertQuiet;
import static io.jvfio.devices.testdevice.ServedTestDevice.awaitSignals;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.EventFd;
import io.jvfio.vfio.IrqSet;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** STATUS, ACK and RAISE on edge and level lines, seen on the client's trigger eventfds. */
class TestDeviceIrqTest {
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

    @Test
    void raisingAnEdgeLineSignalsItsEventfdAndLatchesStatus() throws Exception {
        EventFd trigger = served.trigger(EDGE);

        served.write(RAISE, 1 << EDGE);

        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);
        assertThat(served.read(STATUS)).isEqualTo(1 << EDGE);
        assertThat(served.readLine(EDGE, RAISE_COUNT)).isEqualTo(1);
    }

    @Test
    void everyEdgeRaiseSignalsOnceEvenWhileLatched() throws Exception {
        EventFd trigger = served.trigger(EDGE);

        served.write(RAISE, 1 << EDGE);
        served.write(RAISE, 1 << EDGE);
        served.write(RAISE, 1 << EDGE);

        assertThat(awaitSignals(trigger, 2000)).isEqualTo(3);
        assertThat(served.readLine(EDGE, RAISE_COUNT)).isEqualTo(3);
        assertThat(served.read(STATUS)).isEqualTo(1 << EDGE);
    }

    @Test
    void ackClearsAnEdgeLinesStatusAndCountsTheAck() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.write(RAISE, 1 << EDGE);
        awaitSignals(trigger, 2000);

        served.write(ACK, 1 << EDGE);

        assertThat(served.read(STATUS)).isZero();
        assertThat(served.readLine(EDGE, ACK_COUNT)).isEqualTo(1);
        assertQuiet(trigger, 50);
    }

    @Test
    void echoRaisesTheLineAgainOnEachAckUntilItRunsOut() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.writeLine(EDGE, ECHO_REMAINING, 2);
        served.write(RAISE, 1 << EDGE);
        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);

        for (int echo = 0; echo < 2; echo++) {
            served.write(ACK, 1 << EDGE);
            assertThat(awaitSignals(trigger, 2000)).as("echo %d", echo).isEqualTo(1);
            assertThat(served.read(STATUS)).isEqualTo(1 << EDGE);
        }
        served.write(ACK, 1 << EDGE);

        assertQuiet(trigger, 50);
        assertThat(served.read(STATUS)).isZero();
        assertThat(served.readLine(EDGE, ECHO_REMAINING)).isZero();
        assertThat(served.readLine(EDGE, RAISE_COUNT)).isEqualTo(3);
        assertThat(served.readLine(EDGE, ACK_COUNT)).isEqualTo(3);
    }

    @Test
    void anEdgeRaisedWhileMaskedSignalsOnUnmask() throws Exception {
        EventFd trigger = served.trigger(EDGE);
        served.client.setIrqs(IrqSet.mask(EDGE, 0));

        served.write(RAISE, 1 << EDGE);
        assertQuiet(trigger, 50);
        served.unmask(EDGE);

        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);
    }

    @Test
    void raisingALevelLineAssertsItAndSignalsOnceUntilUnmasked() throws Exception {
        EventFd trigger = served.trigger(LEVEL);

        served.write(RAISE, 1 << LEVEL);
        served.write(RAISE, 1 << LEVEL);

        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);
        assertQuiet(trigger, 50);
        assertThat(served.read(STATUS)).isEqualTo(1 << LEVEL);
        assertThat(served.readLine(LEVEL, RAISE_COUNT)).isEqualTo(2);
    }

    @Test
    void aLevelLineStillAssertedFiresAgainOnUnmask() throws Exception {
        EventFd trigger = served.trigger(LEVEL);
        served.write(RAISE, 1 << LEVEL);
        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);

        served.unmask(LEVEL);

        assertThat(awaitSignals(trigger, 2000)).as("re-fired while asserted").isEqualTo(1);
        assertThat(served.read(STATUS)).isEqualTo(1 << LEVEL);
    }

    @Test
    void anAckedLevelLineDoesNotFireOnUnmask() throws Exception {
        EventFd trigger = served.trigger(LEVEL);
        served.write(RAISE, 1 << LEVEL);
        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);

        served.write(ACK, 1 << LEVEL);
        served.unmask(LEVEL);

        assertQuiet(trigger, 100);
        assertThat(served.read(STATUS)).isZero();
        assertThat(served.readLine(LEVEL, ACK_COUNT)).isEqualTo(1);
    }

    @Test
    void aLevelLineRaisedAgainAfterAckAndUnmaskFiresAgain() throws Exception {
        EventFd trigger = served.trigger(LEVEL);
        served.write(RAISE, 1 << LEVEL);
        awaitSignals(trigger, 2000);
        served.write(ACK, 1 << LEVEL);
        served.unmask(LEVEL);

        served.write(RAISE, 1 << LEVEL);

        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);
    }

    @Test
    void unmaskEventfdReFiresAnAssertedLevelLine() throws Exception {
        EventFd trigger = served.trigger(LEVEL);
        try (EventFd unmask = EventFd.create(true)) {
            served.client.setIrqs(IrqSet.unmaskEventFd(LEVEL, 0, Optional.of(unmask)));
            served.write(RAISE, 1 << LEVEL);
            assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);

            unmask.signal();

            assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);
        }
    }

    @Test
    void oneRaiseWriteRaisesSeveralLinesAndOneAckAcksThem() throws Exception {
        EventFd edge = served.trigger(EDGE);
        EventFd level = served.trigger(LEVEL);

        served.write(RAISE, 0b11);
        assertThat(awaitSignals(edge, 2000)).isEqualTo(1);
        assertThat(awaitSignals(level, 2000)).isEqualTo(1);
        assertThat(served.read(STATUS)).isEqualTo(0b11);
        served.write(ACK, 0xFF);

        assertThat(served.read(STATUS)).isZero();
        assertThat(served.device.counters().acks()).containsExactly(1, 1);
    }

    @Test
    void raiseAndAckBitsBeyondTheLinesAreIgnored() throws Exception {
        served.write(RAISE, 0xFC);
        served.write(ACK, 0xFC);

        assertThat(served.read(STATUS)).isZero();
        assertThat(served.device.counters().raises()).containsExactly(0, 0);
        assertThat(served.device.counters().acks()).containsExactly(0, 0);
    }

    @Test
    void javaCountersFollowTheRegisters() throws Exception {
        served.write(RAISE, 0b11);
        served.write(RAISE, 0b01);
        served.write(ACK, 0b10);

        TestDevice.Counters counters = served.device.counters();
        assertThat(counters.raises()).containsExactly(2, 1);
        assertThat(counters.acks()).containsExactly(0, 1);
        assertThat(served.device.totals()).containsEntry("line0.raises", 2L).containsEntry("line1.acks", 1L);
    }
}
