package io.jvfio.kvm;

import io.jvfio.sys.kvm.KvmAbi;
import java.util.Optional;

/**
 * Why KVM_RUN returned, decoded from kvm_run. In exits ({@link IoIn}, {@link MmioRead}) are completed
 * with {@link Vcpu#completeRead(long)} before the next run. Expected interruptions (EINTR, EAGAIN, a
 * kick) are the {@link Interrupted} value, never exceptions.
 */
public sealed interface VcpuExit {
    Halt HALT = new Halt();
    Shutdown SHUTDOWN = new Shutdown();
    Interrupted INTERRUPTED = new Interrupted();
    IrqWindowOpen IRQ_WINDOW_OPEN = new IrqWindowOpen();
    TaskPriorityLowered TASK_PRIORITY_LOWERED = new TaskPriorityLowered();

    /** KVM_EXIT_IO, out: the guest wrote {@code value} ({@code size} bytes) to {@code port}. */
    record IoOut(int port, int size, long value) implements VcpuExit {}

    /** KVM_EXIT_IO, in: the guest reads {@code size} bytes from {@code port}. */
    record IoIn(int port, int size) implements VcpuExit {}

    /** KVM_EXIT_MMIO, read of {@code size} bytes at guest-physical {@code address}. */
    record MmioRead(long address, int size) implements VcpuExit {}

    /** KVM_EXIT_MMIO, write of {@code value} ({@code size} bytes) at guest-physical {@code address}. */
    record MmioWrite(long address, int size, long value) implements VcpuExit {}

    /** KVM_EXIT_HLT (only without an in-kernel LAPIC). */
    record Halt() implements VcpuExit {}

    /** KVM_EXIT_IRQ_WINDOW_OPEN: the guest can take an interrupt now (asked for by request_interrupt_window). */
    record IrqWindowOpen() implements VcpuExit {}

    /**
     * KVM_EXIT_SET_TPR (only without an in-kernel LAPIC): the guest lowered CR8, which may let a waiting
     * interrupt in; {@link Vcpu#cr8()} has the new value.
     */
    record TaskPriorityLowered() implements VcpuExit {}

    /** KVM_EXIT_SHUTDOWN: a triple fault. */
    record Shutdown() implements VcpuExit {}

    /** KVM_RUN returned EINTR or EAGAIN (a signal, a kick, immediate_exit), or KVM_EXIT_INTR. */
    record Interrupted() implements VcpuExit {}

    /** KVM_EXIT_FAIL_ENTRY: the hardware refused to enter the guest. */
    record FailEntry(long hardwareReason, int cpu) implements VcpuExit {}

    /** KVM_EXIT_INTERNAL_ERROR, e.g. KVM_INTERNAL_ERROR_EMULATION (suberror 1). */
    record InternalError(int suberror) implements VcpuExit {
        /** KVM_INTERNAL_ERROR_EMULATION: KVM's emulator could not run the guest's instruction. */
        public boolean emulationFailed() {
            return suberror == KvmAbi.KVM_INTERNAL_ERROR_EMULATION;
        }
    }

    /** KVM_EXIT_SYSTEM_EVENT: KVM_SYSTEM_EVENT_SHUTDOWN, _RESET, _CRASH, ... */
    record SystemEvent(int type) implements VcpuExit {
        /** "shutdown", "reset" or "crash" for those types; empty for the others. */
        public Optional<String> typeName() {
            return switch (type) {
                case KvmAbi.KVM_SYSTEM_EVENT_SHUTDOWN -> Optional.of("shutdown");
                case KvmAbi.KVM_SYSTEM_EVENT_RESET -> Optional.of("reset");
                case KvmAbi.KVM_SYSTEM_EVENT_CRASH -> Optional.of("crash");
                default -> Optional.empty();
            };
        }
    }

    /** Any other exit reason, or string I/O (rep ins/outs), which jvfio does not emulate. */
    record Unknown(int reason) implements VcpuExit {
        /** Whether this is KVM_EXIT_IO of rep ins/outs, which jvfio does not emulate. */
        public boolean stringIo() {
            return reason == KvmAbi.KVM_EXIT_IO;
        }
    }
}
