package io.jvfio.bench;

import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.boot.ElfImage;
import io.jvfio.machine.boot.LongMode;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.kvm.KvmIoctls;
import io.jvfio.sys.kvm.KvmRunView;
import io.jvfio.sys.kvm.MemoryRegion;
import java.util.List;

/**
 * The VM of the C baselines' lib/guestvm.c on jvfio's native layer alone, for the "java raw" diagnostics:
 * /dev/kvm, a VM with guestvm.c's TSS and identity-map pages and the in-kernel irqchip, 64 MiB of memfd
 * RAM in slot 0, one vCPU with the supported CPUID and its kvm_run; nothing of jvfio's machine. The guest
 * image is laid out by the machine's boot encoders ({@link ElfImage}, {@link LongMode}, {@link BootInfo}),
 * the guests' own contract, which guestvm.c mirrors in C.
 */
final class RawVm implements AutoCloseable {
    /** guestvm.c's layout: the pages KVM needs below 4 GiB on Intel, RAM in slot 0 from address 0. */
    private static final long TSS_ADDRESS = 0xFFFB_D000L;

    private static final long IDENTITY_MAP_ADDRESS = 0xFFFB_C000L;
    private static final int RAM_SLOT = 0;
    private static final long RAM_SIZE = 64L << 20;

    final Fd kvm;
    final Fd ramFd;
    final Mapping ram;
    final Fd vm;
    final Fd vcpu;
    final KvmRunView run;

    private RawVm(Fd kvm, Fd ramFd, Mapping ram, Fd vm, Fd vcpu, KvmRunView run) {
        this.kvm = kvm;
        this.ramFd = ramFd;
        this.ram = ram;
        this.vm = vm;
        this.vcpu = vcpu;
        this.run = run;
    }

    static RawVm create() throws ErrnoException {
        Fd kvm = Fd.openReadWrite("/dev/kvm");
        Fd ramFd = null;
        Mapping ram = null;
        Fd vm = null;
        Fd vcpu = null;
        try {
            ramFd = MemFd.create("java-raw-guest-ram", RAM_SIZE);
            ram = Mapping.map(ramFd, 0, RAM_SIZE, true, "java raw guest RAM");
            vm = KvmIoctls.createVm(kvm);
            KvmIoctls.setTssAddr(vm, TSS_ADDRESS);
            KvmIoctls.setIdentityMapAddr(vm, IDENTITY_MAP_ADDRESS);
            KvmIoctls.createIrqchip(vm);
            KvmIoctls.setUserMemoryRegion(vm, new MemoryRegion(RAM_SLOT, 0, 0, RAM_SIZE, ram.address()));
            vcpu = KvmIoctls.createVcpu(vm, 0);
            KvmIoctls.setCpuid2(vcpu, KvmIoctls.getSupportedCpuid(kvm));
            return new RawVm(kvm, ramFd, ram, vm, vcpu, KvmRunView.map(vcpu, KvmIoctls.getVcpuMmapSize(kvm)));
        } catch (ErrnoException | RuntimeException e) {
            for (AutoCloseable owner : new AutoCloseable[] {vcpu, vm, ram, ramFd, kvm}) {
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
        elf.loadInto(image, ram, LongMode.IMAGE_LOWEST);
        LongMode.writeTables(ram);
        byte[] bootInfo = BootInfo.encode(RAM_SIZE, args, List.of(device));
        ram.copyFrom(bootInfo, 0, LongMode.BOOT_INFO_ADDRESS, bootInfo.length);
        KvmIoctls.setSregs(vcpu, LongMode.sregs(KvmIoctls.getSregs(vcpu)));
        KvmIoctls.setRegs(vcpu, LongMode.regs(elf.entry()));
    }

    /** Releases everything, vCPU first; a close that throws does not keep the later ones from running. */
    @Override
    public void close() {
        closeAll(run::close, vcpu::close, vm::close, ram::close, ramFd::close, kvm::close);
    }

    /**
     * Runs every one of {@code closes} in order; then rethrows the first failure, with the later ones
     * suppressed in it.
     */
    static void closeAll(Runnable... closes) {
        Throwable first = null;
        for (Runnable close : closes) {
            try {
                close.run();
            } catch (RuntimeException | Error e) {
                if (first == null) {
                    first = e;
                } else if (e != first) {
                    first.addSuppressed(e);
                }
            }
        }
        if (first instanceof RuntimeException e) {
            throw e;
        }
        if (first instanceof Error e) {
            throw e;
        }
    }
}
