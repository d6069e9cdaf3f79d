package io.jvfio.machine;

import io.jvfio.kvm.VcpuExit;
import io.jvfio.machine.bus.Bus;
import io.jvfio.machine.bus.MmioDevice;

/**
 * The exit handling of one vCPU as a plain function from an exit to an action: port and MMIO accesses
 * go to the buses (the vCPU's own local APIC first, where jvfio models it), the exit port (0x501) stops
 * the machine with the guest's code, interruptions resume (the vCPU loop decides whether to stop), a
 * halt waits for an interrupt, and fatal exits stop with a reason. It never throws: the buses answer
 * unclaimed accesses, and those whose device throws, themselves.
 */
public final class ExitDispatcher {
    public static final int EXIT_PORT = 0x501;

    private final Bus pio;
    private final Bus mmio;
    private final long localBase;
    private final long localSize;
    /**
     * The local device on a bus of its own, which answers an access that makes it throw as unclaimed and
     * logs it once, as the shared buses do: its LAPIC calls out (device EOI listeners, the clock of its
     * timer), and a failure there must not end the vCPU's loop. Null without a local device.
     */
    private final Bus local;

    public ExitDispatcher(Bus pio, Bus mmio) {
        this(pio, mmio, 0, 0, null);
    }

    /** With a device private to this vCPU at [localBase, localBase + localSize): its local APIC. */
    public ExitDispatcher(Bus pio, Bus mmio, long localBase, long localSize, MmioDevice local) {
        this.pio = pio;
        this.mmio = mmio;
        this.localBase = localBase;
        this.localSize = localSize;
        if (local == null) {
            this.local = null;
        } else {
            this.local = new Bus("local mmio");
            this.local.add("local", localBase, localSize, local);
        }
    }

    private boolean isLocal(long address) {
        return local != null && address - localBase >= 0 && address - localBase < localSize;
    }

    public ExitAction dispatch(VcpuExit exit) {
        return switch (exit) {
            case VcpuExit.IoOut out
            when out.port() == EXIT_PORT -> new ExitAction.Stop(new MachineExit.Exited((int) out.value()));
            case VcpuExit.IoOut out -> {
                pio.write(out.port(), out.size(), out.value());
                yield ExitAction.RESUME;
            }
            case VcpuExit.IoIn in -> new ExitAction.CompleteRead(pio.read(in.port(), in.size()));
            case VcpuExit.MmioRead read
            when isLocal(read.address()) -> new ExitAction.CompleteRead(local.read(read.address(), read.size()));
            case VcpuExit.MmioRead read -> new ExitAction.CompleteRead(mmio.read(read.address(), read.size()));
            case VcpuExit.MmioWrite write
            when isLocal(write.address()) -> {
                local.write(write.address(), write.size(), write.value());
                yield ExitAction.RESUME;
            }
            case VcpuExit.MmioWrite write -> {
                mmio.write(write.address(), write.size(), write.value());
                yield ExitAction.RESUME;
            }
            case VcpuExit.Interrupted interrupted -> ExitAction.RESUME;
            case VcpuExit.Halt halt -> ExitAction.AWAIT_INTERRUPT;
            case VcpuExit.IrqWindowOpen window -> ExitAction.RESUME;
            case VcpuExit.TaskPriorityLowered lowered -> ExitAction.RESUME;
            case VcpuExit.Shutdown shutdown -> failed("the guest triple-faulted (KVM_EXIT_SHUTDOWN)");
            case VcpuExit.FailEntry fail ->
                failed("KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x" + Long.toHexString(fail.hardwareReason())
                        + " on cpu " + fail.cpu());
            case VcpuExit.InternalError error ->
                failed("KVM_EXIT_INTERNAL_ERROR: suberror " + error.suberror()
                        + (error.emulationFailed() ? " (KVM's emulator cannot run the guest's instruction)" : ""));
            case VcpuExit.SystemEvent event ->
                failed("KVM_EXIT_SYSTEM_EVENT type " + event.type()
                        + event.typeName().map(name -> " (" + name + ")").orElse(""));
            case VcpuExit.Unknown unknown ->
                failed("unhandled exit reason " + unknown.reason()
                        + (unknown.stringIo() ? " (string I/O is not emulated)" : ""));
        };
    }

    private static ExitAction failed(String reason) {
        return new ExitAction.Stop(new MachineExit.Failed(reason));
    }
}
