package io.jvfio.machine.irqchip;

import java.util.ArrayList;
import java.util.List;

/**
 * KVM's side of an entry for tests without a vCPU: the guest's interrupt flag is the test's to set (on
 * by default); the vectors injected and what the irqchip asked of the run are recorded.
 */
final class RecordingInterruptEntry implements UserIrqchip.InterruptEntry {
    boolean interruptsEnabled = true;
    /** The CR8 the last entry gave the guest. */
    int cr8;

    final List<Integer> injected = new ArrayList<>();
    final List<String> asked = new ArrayList<>();

    @Override
    public boolean canTakeInterrupt() {
        return interruptsEnabled;
    }

    @Override
    public void injectInterrupt(int vector) {
        injected.add(vector);
    }

    @Override
    public void requestInterruptWindow(boolean requested) {
        asked.add("window " + requested);
    }

    @Override
    public void setCr8(int cr8) {
        this.cr8 = cr8;
    }

    @Override
    public void exitEvery(long firstNanos, long periodNanos) {
        asked.add("exit after " + firstNanos + " then every " + periodNanos);
    }
}
