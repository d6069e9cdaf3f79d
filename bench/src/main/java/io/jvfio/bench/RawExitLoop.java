package io.jvfio.bench;

import java.io.IOException;
import java.util.List;

import io.jvfio.machine.CpuidMask;
import io.jvfio.machine.GuestRam;
import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.boot.ElfImage;
import io.jvfio.machine.boot.LongMode;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Libc;
import io.jvfio.sys.kvm.KvmAbi;
import io.jvfio.sys.kvm.KvmIoctls;
import io.jvfio.sys.kvm.KvmRunView;
import io.jvfio.sys.kvm.MemoryRegion;

/**
 * mmio-exit's "java raw" diagnostic: the C baseline's loop written in Java on jvfio's native layer, with
 * nothing of the machine between KVM_RUN and the count (no exit records, no dispatcher, no bus, no
 * vCPU thread). The same VM as {@link Machine} and the C program, the same span timed. What it costs
 * over C is the JVM's own price for a KVM exit loop (the downcall and its errno capture, JIT code);
 * what jvfio costs over it is the machine's exit handling.
 */
final class RawExitLoop {
    private RawExitLoop() {
    }

    /** One run of {@code image} with {@code iterations}; returns ns per exit from loading to the exit port. */
    static double run(byte[] image, long iterations) throws Exception {
        try (Fd kvm = Fd.open("/dev/kvm", Libc.O_RDWR | Libc.O_CLOEXEC);
             GuestRam ram = GuestRam.create(MachineConfig.DEFAULT_RAM_SIZE);
             Fd vm = KvmIoctls.createVm(kvm)) {
            KvmIoctls.setTssAddr(vm, Machine.TSS_ADDRESS);
            KvmIoctls.setIdentityMapAddr(vm, Machine.IDENTITY_MAP_ADDRESS);
            KvmIoctls.createIrqchip(vm);
            KvmIoctls.setUserMemoryRegion(vm, new MemoryRegion(Machine.RAM_SLOT, 0, 0, ram.size(),
                    ram.mapping().address()));
            try (Fd vcpu = KvmIoctls.createVcpu(vm, 0);
                 KvmRunView run = KvmRunView.map(vcpu, KvmIoctls.getVcpuMmapSize(kvm))) {
                KvmIoctls.setCpuid2(vcpu, CpuidMask.apply(KvmIoctls.getSupportedCpuid(kvm)));
                long start = System.nanoTime();
                ElfImage elf = ElfImage.parse(image);
                elf.loadInto(image, ram.mapping(), LongMode.IMAGE_LOWEST);
                LongMode.writeTables(ram.mapping());
                ram.write(LongMode.BOOT_INFO_ADDRESS, BootInfo.encode(ram.size(), new long[] {iterations},
                        List.of(new BootInfo.Device(MmioExit.COMPATIBLE, List.of(new BootInfo.Region(
                                MmioExit.DEVICE_BASE, MmioExit.DEVICE_SIZE)), List.of()))));
                KvmIoctls.setSregs(vcpu, LongMode.sregs(KvmIoctls.getSregs(vcpu)));
                KvmIoctls.setRegs(vcpu, LongMode.regs(elf.entry()));
                long writes = loop(vcpu, run);
                long elapsed = System.nanoTime() - start;
                if (writes != iterations) {
                    throw new IOException("java raw counted " + writes + " writes for " + iterations + " iterations");
                }
                return (double) elapsed / iterations;
            }
        }
    }

    /** The C baseline's switch: counts writes to the device, answers other reads with ones, stops at 0x501. */
    private static long loop(Fd vcpu, KvmRunView run) throws IOException {
        long writes = 0;
        while (true) {
            if (KvmIoctls.run(vcpu) < 0) {
                continue;
            }
            switch (run.exitReason()) {
                case KvmAbi.KVM_EXIT_MMIO -> {
                    long address = run.mmioPhysAddr();
                    if (run.mmioIsWrite() && address >= MmioExit.DEVICE_BASE
                            && address < MmioExit.DEVICE_BASE + MmioExit.DEVICE_SIZE) {
                        writes++;
                    } else if (!run.mmioIsWrite()) {
                        run.setMmioData(-1L);
                    }
                }
                case KvmAbi.KVM_EXIT_IO -> {
                    if (run.ioPort() == 0x501 && run.ioIsOut()) {
                        if (run.ioData(0) != 0) {
                            throw new IOException("mmio-loop exited with " + run.ioData(0) + " under java raw");
                        }
                        return writes;
                    }
                    if (!run.ioIsOut()) {
                        run.setIoData(0, -1L);
                    }
                }
                default -> throw new IOException("java raw: unexpected exit reason " + run.exitReason());
            }
        }
    }
}
