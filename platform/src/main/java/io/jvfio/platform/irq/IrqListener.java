package io.jvfio.platform.irq;

/**
 * Observes the state machine: the trace points of QEMU's platform code, which jvfio turns into JFR
 * events. Called with the controller's lock held: implementations must be quick and must not call back.
 */
public interface IrqListener {
    IrqListener NONE = new IrqListener() {};

    default void stateChanged(int irq, IrqState from, IrqState to) {}

    default void injected(int irq, boolean fromPending) {}

    default void coalesced(int irq, IrqState state) {}

    default void endOfInterrupt(int irq, boolean precise) {}

    default void unmasked(int irq) {}

    default void fastPathChanged(boolean enabled) {}
}
