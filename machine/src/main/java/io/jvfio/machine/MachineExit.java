package io.jvfio.machine;

/** How a guest run ended: the guest wrote an exit code, or the machine stopped it on a fatal exit. */
public sealed interface MachineExit {
    /** The guest wrote {@code code} to the exit port (0x501). */
    record Exited(int code) implements MachineExit {}

    /** The guest could not go on: a triple fault, an emulation failure, a failed entry, ... */
    record Failed(String reason) implements MachineExit {}

    /** The host closed the machine before the guest exited. */
    record Stopped() implements MachineExit {}
}
