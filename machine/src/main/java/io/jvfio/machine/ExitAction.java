package io.jvfio.machine;

/** What a vCPU thread does after an exit was handled. */
public sealed interface ExitAction {
    Resume RESUME = new Resume();
    AwaitInterrupt AWAIT_INTERRUPT = new AwaitInterrupt();

    /** Run the guest again. */
    record Resume() implements ExitAction {}

    /** The guest halted: wait until its irqchip has an interrupt for it, then run again. */
    record AwaitInterrupt() implements ExitAction {}

    /** Hand {@code value} to the guest's pending read (port in or MMIO read), then run again. */
    record CompleteRead(long value) implements ExitAction {}

    /** Stop every vCPU: the machine's run is over. */
    record Stop(MachineExit exit) implements ExitAction {}
}
