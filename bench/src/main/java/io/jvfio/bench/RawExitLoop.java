package io.jvfio.bench;

import io.jvfio.machine.boot.BootInfo;
import io.jvfio.sys.Fd;
import io.jvfio.sys.kvm.KvmAbi;
import io.jvfio.sys.kvm.KvmIoctls;
import io.jvfio.sys.kvm.KvmRunView;
import java.io.IOException;
import java.util.List;

/**
 * mmio-exit's "java raw" diagnostic: the C baseline's loop written in Java on jvfio's native layer, with
 * nothing of the machine between KVM_RUN and the count (no exit records, no dispatcher, no bus, no
 * vCPU thread). The same VM as the C program ({@link RawVm}), the same span timed.
 * What it costs over C is the JVM's own price for a KVM exit loop (the downcall, JIT-compiled code);
 * what jvfio costs over it is the machine's exit handling.
 */
final class RawExitLoop {
    /** What {@link #next} returns at the exit port. */
    private static final int EXITED = -1;

    private RawExitLoop() {}

    /** One run of {@code image} with {@code iterations}; returns ns per exit from loading to the exit port. */
    static double run(byte[] image, long iterations) throws Exception {
        try (RawVm vm = RawVm.create()) {
            long start = System.nanoTime();
            vm.start(
                    image,
                    new long[] {iterations},
                    new BootInfo.Device(
                            MmioExit.COMPATIBLE,
                            List.of(new BootInfo.Region(MmioExit.DEVICE_BASE, MmioExit.DEVICE_SIZE)),
                            List.of()));
            long writes = loop(vm.vcpu, vm.run);
            long elapsed = System.nanoTime() - start;
            if (writes != iterations) {
                throw new IOException("java raw counted " + writes + " writes for " + iterations + " iterations");
            }
            return (double) elapsed / iterations;
        }
    }

    /** The C baseline's switch: counts writes to the device, answers other reads with ones, stops at 0x501. */
    private static long loop(Fd vcpu, KvmRunView run) throws IOException {
        long writes = 0;
        while (true) {
            int outcome = next(vcpu, run);
            if (outcome == EXITED) {
                return writes;
            }
            writes += outcome;
        }
    }

    /**
     * One KVM_RUN and its exit: 1 for a write to the device, {@link #EXITED} at the exit port, else 0. A
     * method of its own, as jvfio's machine has: HotSpot compiles a loop it is already running only after
     * tens of thousands of iterations, a method called once per exit after a few thousand calls.
     */
    private static int next(Fd vcpu, KvmRunView run) throws IOException {
        if (KvmIoctls.run(vcpu) < 0) {
            return 0;
        }
        switch (run.exitReason()) {
            case KvmAbi.KVM_EXIT_MMIO -> {
                long address = run.mmioPhysAddr();
                if (run.mmioIsWrite()
                        && address >= MmioExit.DEVICE_BASE
                        && address < MmioExit.DEVICE_BASE + MmioExit.DEVICE_SIZE) {
                    return 1;
                }
                if (!run.mmioIsWrite()) {
                    run.setMmioData(-1L);
                }
                return 0;
            }
            case KvmAbi.KVM_EXIT_IO -> {
                return RawPorts.exited(run) ? EXITED : 0;
            }
            default -> throw new IOException("java raw: unexpected exit reason " + run.exitReason());
        }
    }
}
