package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;

import io.jvfio.vfiouser.server.ModelIrqLine;

/**
 * One IRQ line of the test device and its register block (docs/devices/test-device.md, "Lines" and
 * "Timers"): its STATUS bit, raise and ACK counts, echo, and its countdown timer. Guarded by the
 * device's lock; the served line's own lock is taken inside it, never the other way round.
 */
final class TestDeviceLine {
    private final int index;
    private final boolean level;
    private final LineTimer timer;
    private final IgnoredAccesses ignored;
    /** The served line; null until the device is attached to a server. */
    private ModelIrqLine irq;
    /** STATUS bit: asserted (level) or latched (edge), until ACK. */
    private boolean latched;

    private int timerPeriodUs;
    private int timerCtrl;
    private int timerRemaining;
    private int echoRemaining;
    private long raiseCount;
    private long ackCount;
    private long totalRaises;
    private long totalAcks;
    private long totalTimerFires;

    TestDeviceLine(int index, boolean level, Object lock, TimerScheduler scheduler, IgnoredAccesses ignored) {
        this.index = index;
        this.level = level;
        this.ignored = ignored;
        this.timer = new LineTimer(index, lock, scheduler, this::timerFired);
    }

    /** STATUS as the register reads: bit i set while line i is latched. */
    static int status(TestDeviceLine[] lines) {
        int status = 0;
        for (TestDeviceLine line : lines) {
            if (line.latched) {
                status |= 1 << line.index;
            }
        }
        return status;
    }

    void attach(ModelIrqLine served) {
        irq = served;
    }

    /** RAISE bit, timer or DMA completion: counts, latches or asserts, and signals the line. */
    void raise() {
        raiseCount++;
        totalRaises++;
        latched = true;
        if (irq == null) {
            return;
        }
        if (level) {
            irq.raise();
        } else {
            irq.pulse();
        }
    }

    /** An ACK bit: counts, clears STATUS, de-asserts a level line, and echoes while ECHO_REMAINING lasts. */
    void ack() {
        ackCount++;
        totalAcks++;
        if (level && latched && irq != null) {
            irq.lower();
        }
        latched = false;
        if (echoRemaining != 0) {
            echoRemaining--;
            raise();
        }
    }

    /** A register of the block, {@code register} relative to it (e.g. {@link TestDeviceRegisters#TIMER_CTRL}). */
    int read(int register) {
        return switch (register) {
            case TIMER_PERIOD_US -> timerPeriodUs;
            case TIMER_CTRL -> timerCtrl;
            case RAISE_COUNT -> (int) raiseCount;
            case ACK_COUNT -> (int) ackCount;
            case TIMER_REMAINING -> timerRemaining;
            case ECHO_REMAINING -> echoRemaining;
            default -> 0;
        };
    }

    /** @return false if the register is read-only or unused: the write is ignored */
    boolean write(int register, int value) {
        switch (register) {
            case TIMER_PERIOD_US -> timerPeriodUs = value;
            case TIMER_CTRL -> {
                timerCtrl = value & (TIMER_ENABLE | TIMER_PERIODIC);
                restartTimer();
            }
            case TIMER_REMAINING -> timerRemaining = value;
            case ECHO_REMAINING -> echoRemaining = value;
            default -> {
                return false;
            }
        }
        return true;
    }

    /** A write to TIMER_CTRL: stop the countdown, and start a new one if enable is set. */
    private void restartTimer() {
        timer.stop();
        if ((timerCtrl & TIMER_ENABLE) == 0) {
            return;
        }
        long periodNanos = Math.max(TIMER_MIN_PERIOD_US, Integer.toUnsignedLong(timerPeriodUs)) * 1000;
        if (!timer.start(periodNanos, (timerCtrl & TIMER_PERIODIC) != 0)) {
            ignored.record("timer start after close");
            timerCtrl &= ~TIMER_ENABLE;
        }
    }

    private void timerFired(boolean periodic) {
        totalTimerFires++;
        raise();
        if (!periodic) {
            timerCtrl &= ~TIMER_ENABLE;
        } else if (timerRemaining != 0 && --timerRemaining == 0) {
            timerCtrl &= ~TIMER_ENABLE;
            timer.stop();
        }
    }

    /** Device reset: the countdown stops, an asserted level line is de-asserted, every register 0. */
    void reset() {
        timer.stop();
        if (level && latched && irq != null) {
            irq.lower();
        }
        latched = false;
        timerPeriodUs = 0;
        timerCtrl = 0;
        timerRemaining = 0;
        echoRemaining = 0;
        raiseCount = 0;
        ackCount = 0;
    }

    /** The device is closing: the countdown stops and no new one starts. */
    void close() {
        timer.close();
    }

    long raiseCount() {
        return raiseCount;
    }

    long ackCount() {
        return ackCount;
    }

    long totalRaises() {
        return totalRaises;
    }

    long totalAcks() {
        return totalAcks;
    }

    long totalTimerFires() {
        return totalTimerFires;
    }
}
