package io.jvfio.platform.observe;

import io.jvfio.platform.irq.IrqListener;
import io.jvfio.platform.irq.IrqState;

/** Turns the IRQ state machine's trace points into JFR events; nearly free while recording is off. */
public final class JfrIrqListener implements IrqListener {
    private final String device;

    public JfrIrqListener(String device) {
        this.device = device;
    }

    @Override
    public void stateChanged(int irq, IrqState from, IrqState to) {
        IrqStateChangeEvent event = new IrqStateChangeEvent();
        if (event.shouldCommit()) {
            event.device = device;
            event.pin = irq;
            event.from = from.name();
            event.to = to.name();
            event.commit();
        }
    }

    @Override
    public void injected(int irq, boolean fromPending) {
        IrqInjectionEvent event = new IrqInjectionEvent();
        if (event.shouldCommit()) {
            event.device = device;
            event.pin = irq;
            event.fromPending = fromPending;
            event.commit();
        }
    }

    @Override
    public void coalesced(int irq, IrqState state) {
        IrqCoalescedEvent event = new IrqCoalescedEvent();
        if (event.shouldCommit()) {
            event.device = device;
            event.pin = irq;
            event.state = state.name();
            event.commit();
        }
    }

    @Override
    public void endOfInterrupt(int irq, boolean precise) {
        IrqEoiEvent event = new IrqEoiEvent();
        if (event.shouldCommit()) {
            event.device = device;
            event.pin = irq;
            event.precise = precise;
            event.commit();
        }
    }

    @Override
    public void unmasked(int irq) {
        IrqUnmaskEvent event = new IrqUnmaskEvent();
        if (event.shouldCommit()) {
            event.device = device;
            event.pin = irq;
            event.commit();
        }
    }

    @Override
    public void fastPathChanged(boolean enabled) {
        FastPathSwitchEvent event = new FastPathSwitchEvent();
        if (event.shouldCommit()) {
            event.device = device;
            event.enabled = enabled;
            event.commit();
        }
    }
}
