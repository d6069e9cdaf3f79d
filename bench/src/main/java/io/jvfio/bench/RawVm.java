package io.jvfio.bench;

import java.util.List;

import io.jvfio.machine.CpuidMask;
import io.jvfio.machine.GuestRam;
import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.boot.ElfImage;
import io.jvfio.machine.boot.LongMode;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.kvm.KvmIoctls;
import io.jvfio.sys.kvm.KvmRunView;
import io.jvfio.sys.kvm.MemoryRegion;

/**
 * The VM of {@link Machine} (and of the C baselines' lib/guestvm.c) built on jvfio's native layer alone,
 * for the "java raw" diagnostics: /dev/kvm, a VM with its TSS, identity map and irqchip, the RAM slot,
 * one vCPU with the machine's CPUID and its kvm_run. {@link #start} does what {@link Machine#start}
 * does before the vCPU runs.
 */
final class RawVm implements AutoCloseable {
    final Fd kvm;
    final GuestRam ram;
    final Fd vm;
    final Fd vcpu;
    final KvmRunView run;

    private RawVm(Fd kvm, GuestRam ram, Fd vm, Fd vcpu, KvmRunView run) {
        this.kvm = kvm;
        this.ram = ram;
        this.vm = vm;
        this.vcpu = vcpu;
        this.run = run;
    }

    static RawVm create() throws ErrnoException {
        Fd kvm = Fd.openReadWrite("/dev/kvm");
        GuestRam ram = null;
        Fd vm = null;
        Fd vcpu = null;
        try {
            ram = GuestRam.create(MachineConfig.DEFAULT_RAM_SIZE);
            vm = KvmIoctls.createVm(kvm);
            KvmIoctls.setTssAddr(vm, Machine.TSS_ADDRESS);
            KvmIoctls.setIdentityMapAddr(vm, Machine.IDENTITY_MAP_ADDRESS);
            KvmIoctls.createIrqchip(vm);
            KvmIoctls.setUserMemoryRegion(vm, new MemoryRegion(Machine.RAM_SLOT, 0, 0, ram.size(),
                    ram.mapping().address()));
            vcpu = KvmIoctls.createVcpu(vm, 0);
            KvmIoctls.setCpuid2(vcpu, CpuidMask.apply(KvmIoctls.getSupportedCpuid(kvm)));
            return new RawVm(kvm, ram, vm, vcpu, KvmRunView.map(vcpu, KvmIoctls.getVcpuMmapSize(kvm)));
        } catch (ErrnoException | RuntimeException e) {
            for (AutoCloseable owner : new AutoCloseable[] {vcpu, vm, ram, kvm}) {
                closeQuietly(owner);
            }
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable owner) {
        if (owner == null) {
            return;
        }
        try {
            owner.close();
        } catch (Exception ignored) {
            // already failing: the first error is the one reported
        }
    }

    /** Loads {@code image}, writes the long-mode tables and the boot info, sets the vCPU's registers. */
    void start(byte[] image, long[] args, BootInfo.Device device) throws Exception {
        ElfImage elf = ElfImage.parse(image);
        elf.loadInto(image, ram.mapping(), LongMode.IMAGE_LOWEST);
        LongMode.writeTables(ram.mapping());
        ram.write(LongMode.BOOT_INFO_ADDRESS, BootInfo.encode(ram.size(), args, List.of(device)));
        KvmIoctls.setSregs(vcpu, LongMode.sregs(KvmIoctls.getSregs(vcpu)));
        KvmIoctls.setRegs(vcpu, LongMode.regs(elf.entry()));
    }

    @Override
    public void close() {
        run.close();
        vcpu.close();
        vm.close();
        ram.close();
        kvm.close();
    }
}
