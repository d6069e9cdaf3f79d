package io.jvfio.sys.kvm;

import static io.jvfio.sys.kvm.KvmAbi.KVM_CHECK_EXTENSION;
import static io.jvfio.sys.kvm.KvmAbi.KVM_CREATE_IRQCHIP;
import static io.jvfio.sys.kvm.KvmAbi.KVM_CREATE_VCPU;
import static io.jvfio.sys.kvm.KvmAbi.KVM_CREATE_VM;
import static io.jvfio.sys.kvm.KvmAbi.KVM_GET_API_VERSION;
import static io.jvfio.sys.kvm.KvmAbi.KVM_GET_IRQCHIP;
import static io.jvfio.sys.kvm.KvmAbi.KVM_GET_LAPIC;
import static io.jvfio.sys.kvm.KvmAbi.KVM_GET_REGS;
import static io.jvfio.sys.kvm.KvmAbi.KVM_GET_SREGS;
import static io.jvfio.sys.kvm.KvmAbi.KVM_GET_SUPPORTED_CPUID;
import static io.jvfio.sys.kvm.KvmAbi.KVM_GET_TSC_KHZ;
import static io.jvfio.sys.kvm.KvmAbi.KVM_GET_VCPU_MMAP_SIZE;
import static io.jvfio.sys.kvm.KvmAbi.KVM_INTERRUPT;
import static io.jvfio.sys.kvm.KvmAbi.KVM_IOEVENTFD;
import static io.jvfio.sys.kvm.KvmAbi.KVM_IRQFD;
import static io.jvfio.sys.kvm.KvmAbi.KVM_IRQ_LINE;
import static io.jvfio.sys.kvm.KvmAbi.KVM_IRQ_ROUTING_IRQCHIP;
import static io.jvfio.sys.kvm.KvmAbi.KVM_REGISTER_COALESCED_MMIO;
import static io.jvfio.sys.kvm.KvmAbi.KVM_RUN;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_CPUID2;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_GSI_ROUTING;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_IDENTITY_MAP_ADDR;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_IRQCHIP;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_LAPIC;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_MSRS;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_REGS;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_SREGS;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_TSS_ADDR;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SET_USER_MEMORY_REGION;
import static io.jvfio.sys.kvm.KvmAbi.KVM_SIGNAL_MSI;
import static io.jvfio.sys.kvm.KvmAbi.KVM_UNREGISTER_COALESCED_MMIO;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.kvm.vcpu.CpuidEntry;
import io.jvfio.sys.kvm.vcpu.DescriptorTable;
import io.jvfio.sys.kvm.vcpu.MsrEntry;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Segment;
import io.jvfio.sys.kvm.vcpu.Sregs;
import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One typed static function per KVM ioctl: each builds its struct in a confined arena, makes the call
 * and returns records. The fds are those of /dev/kvm, a VM or a vCPU as each ioctl requires; errors
 * are {@link ErrnoException}s named after the ioctl.
 */
public final class KvmIoctls {
    private static final Duration CREATE_VM_PATIENCE = Duration.ofSeconds(10);
    private static final int SUPPORTED_CPUID_START = 128;
    private static final int SUPPORTED_CPUID_MAX = 4096;
    /** The union in kvm_irqchip that holds one chip's state. */
    private static final int CHIP_STATE_SIZE = KvmAbi.kvm_irqchip.SIZE - KvmAbi.kvm_irqchip.chip;

    private KvmIoctls() {}

    /** KVM_GET_API_VERSION: 12 on every kernel jvfio supports. */
    public static int getApiVersion(Fd kvm) throws ErrnoException {
        return Libc.ioctl(kvm, KVM_GET_API_VERSION, 0L, "KVM_GET_API_VERSION");
    }

    /**
     * KVM_CREATE_VM (machine type 0): the new VM's fd, owned by the caller. A signal that lands while KVM
     * sets the VM up fails the call with EINTR, nothing made (registering the VM's MMU notifier, Linux
     * takes the locks of every mapping of the process and looks for a signal at each, so in a JVM with
     * thousands of mappings, under emulation, a creation takes milliseconds); the JVM signals its own
     * threads unasked (JFR's sampler, for one), so the call is made again, as QEMU, Cloud Hypervisor and
     * Firecracker do, for up to 10 s rather than a number of times: a thread signalled faster than KVM can
     * ever make a VM gets an error, not an endless loop.
     */
    public static Fd createVm(Fd kvm) throws ErrnoException {
        long deadline = System.nanoTime() + CREATE_VM_PATIENCE.toNanos();
        for (int attempt = 1; ; attempt++) {
            try {
                return Fd.adopt(Libc.ioctl(kvm, KVM_CREATE_VM, 0L, "KVM_CREATE_VM"), "kvm-vm");
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EINTR) {
                    throw e;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new ErrnoException(
                            "KVM_CREATE_VM (interrupted by a signal in each of " + attempt + " attempts over "
                                    + CREATE_VM_PATIENCE.toSeconds() + " s)",
                            e.errno());
                }
            }
        }
    }

    /** KVM_CHECK_EXTENSION: 0 if the capability is absent, else a positive (capability-specific) value. */
    public static int checkExtension(Fd kvmOrVm, int capability) throws ErrnoException {
        return Libc.ioctl(kvmOrVm, KVM_CHECK_EXTENSION, capability, "KVM_CHECK_EXTENSION");
    }

    /** KVM_GET_VCPU_MMAP_SIZE: the bytes to mmap from a vCPU fd for its kvm_run (and what follows it). */
    public static int getVcpuMmapSize(Fd kvm) throws ErrnoException {
        return Libc.ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0L, "KVM_GET_VCPU_MMAP_SIZE");
    }

    /** KVM_GET_SUPPORTED_CPUID: every CPUID leaf KVM can offer a guest (retrying larger on E2BIG). */
    public static List<CpuidEntry> getSupportedCpuid(Fd kvm) throws ErrnoException {
        for (int capacity = SUPPORTED_CPUID_START; ; capacity *= 2) {
            try (Arena call = Arena.ofConfined()) {
                MemorySegment cpuid = allocateCpuid2(call, capacity);
                try {
                    Libc.ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid, "KVM_GET_SUPPORTED_CPUID");
                } catch (ErrnoException e) {
                    if (e.errno() == Errno.E2BIG && capacity < SUPPORTED_CPUID_MAX) {
                        continue;
                    }
                    throw e;
                }
                return readCpuid2(cpuid);
            }
        }
    }

    /** KVM_CREATE_VCPU: the new vCPU's fd, owned by the caller. */
    public static Fd createVcpu(Fd vm, int vcpuId) throws ErrnoException {
        return Fd.adopt(Libc.ioctl(vm, KVM_CREATE_VCPU, vcpuId, "KVM_CREATE_VCPU"), "kvm-vcpu " + vcpuId);
    }

    /** KVM_SET_USER_MEMORY_REGION: creates, moves or (size 0) deletes a memory slot. */
    public static void setUserMemoryRegion(Fd vm, MemoryRegion region) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_userspace_memory_region.SIZE, 8);
            s.set(JAVA_INT, KvmAbi.kvm_userspace_memory_region.slot, region.slot());
            s.set(JAVA_INT, KvmAbi.kvm_userspace_memory_region.flags, region.flags());
            s.set(JAVA_LONG, KvmAbi.kvm_userspace_memory_region.guest_phys_addr, region.guestPhysAddr());
            s.set(JAVA_LONG, KvmAbi.kvm_userspace_memory_region.memory_size, region.memorySize());
            s.set(JAVA_LONG, KvmAbi.kvm_userspace_memory_region.userspace_addr, region.userspaceAddr());
            Libc.ioctl(vm, KVM_SET_USER_MEMORY_REGION, s, "KVM_SET_USER_MEMORY_REGION");
        }
    }

    /** KVM_SET_TSS_ADDR: three pages of guest-physical space KVM uses on Intel for real-mode emulation. */
    public static void setTssAddr(Fd vm, long address) throws ErrnoException {
        Libc.ioctl(vm, KVM_SET_TSS_ADDR, address, "KVM_SET_TSS_ADDR");
    }

    /** KVM_SET_IDENTITY_MAP_ADDR: one page of guest-physical space for Intel's real-mode identity map. */
    public static void setIdentityMapAddr(Fd vm, long address) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment value = call.allocate(JAVA_LONG);
            value.set(JAVA_LONG, 0, address);
            Libc.ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, value, "KVM_SET_IDENTITY_MAP_ADDR");
        }
    }

    /** KVM_CREATE_IRQCHIP: the in-kernel PIC pair, IOAPIC (24 pins) and a LAPIC per vCPU. */
    public static void createIrqchip(Fd vm) throws ErrnoException {
        Libc.ioctl(vm, KVM_CREATE_IRQCHIP, 0L, "KVM_CREATE_IRQCHIP");
    }

    /** KVM_IRQ_LINE: sets the level of a GSI (1 high, 0 low). */
    public static void irqLine(Fd vm, int gsi, int level) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = irqLevel(call, gsi, level);
            Libc.ioctl(vm, KVM_IRQ_LINE, s, "KVM_IRQ_LINE");
        }
    }

    private static MemorySegment irqLevel(Arena call, int gsi, int level) {
        MemorySegment s = call.allocate(KvmAbi.kvm_irq_level.SIZE, 4);
        s.set(JAVA_INT, KvmAbi.kvm_irq_level.irq, gsi);
        s.set(JAVA_INT, KvmAbi.kvm_irq_level.level, level);
        return s;
    }

    /** KVM_GET_IRQCHIP: the 512-byte state of one in-kernel chip (KVM_IRQCHIP_PIC_MASTER/SLAVE/IOAPIC). */
    public static byte[] getIrqchip(Fd vm, int chipId) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_irqchip.SIZE, 8);
            s.set(JAVA_INT, KvmAbi.kvm_irqchip.chip_id, chipId);
            Libc.ioctl(vm, KVM_GET_IRQCHIP, s, "KVM_GET_IRQCHIP");
            return s.asSlice(KvmAbi.kvm_irqchip.chip, CHIP_STATE_SIZE).toArray(JAVA_BYTE);
        }
    }

    /**
     * KVM_SET_IRQCHIP: replaces the whole state of one in-kernel chip with {@code chip} (512 bytes, laid out
     * as KVM_GET_IRQCHIP returned it).
     */
    public static void setIrqchip(Fd vm, int chipId, byte[] chip) throws ErrnoException {
        if (chip.length != CHIP_STATE_SIZE) {
            throw new IllegalArgumentException("irqchip state is " + CHIP_STATE_SIZE + " bytes, got " + chip.length);
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_irqchip.SIZE, 8);
            s.set(JAVA_INT, KvmAbi.kvm_irqchip.chip_id, chipId);
            MemorySegment.copy(chip, 0, s, JAVA_BYTE, KvmAbi.kvm_irqchip.chip, CHIP_STATE_SIZE);
            Libc.ioctl(vm, KVM_SET_IRQCHIP, s, "KVM_SET_IRQCHIP");
        }
    }

    /**
     * KVM_SIGNAL_MSI: delivers one MSI with this 64-bit address and data; returns above 0 when delivered, 0
     * when the guest blocked it.
     */
    public static int signalMsi(Fd vm, long address, int data) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_msi.SIZE, 8);
            s.set(JAVA_INT, KvmAbi.kvm_msi.address_lo, (int) address);
            s.set(JAVA_INT, KvmAbi.kvm_msi.address_hi, (int) (address >>> 32));
            s.set(JAVA_INT, KvmAbi.kvm_msi.data, data);
            return Libc.ioctl(vm, KVM_SIGNAL_MSI, s, "KVM_SIGNAL_MSI");
        }
    }

    /** KVM_SET_GSI_ROUTING: replaces the whole GSI routing table with these irqchip routes. */
    public static void setGsiRouting(Fd vm, List<IrqRoute> routes) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            long size = KvmAbi.kvm_irq_routing.SIZE + (long) routes.size() * KvmAbi.kvm_irq_routing_entry.SIZE;
            MemorySegment s = call.allocate(size, 8);
            s.set(JAVA_INT, KvmAbi.kvm_irq_routing.nr, routes.size());
            for (int i = 0; i < routes.size(); i++) {
                IrqRoute route = routes.get(i);
                long e = KvmAbi.kvm_irq_routing.entries + (long) i * KvmAbi.kvm_irq_routing_entry.SIZE;
                s.set(JAVA_INT, e + KvmAbi.kvm_irq_routing_entry.gsi, route.gsi());
                s.set(JAVA_INT, e + KvmAbi.kvm_irq_routing_entry.type, KVM_IRQ_ROUTING_IRQCHIP);
                s.set(JAVA_INT, e + KvmAbi.kvm_irq_routing_entry.u_irqchip_irqchip, route.irqchip());
                s.set(JAVA_INT, e + KvmAbi.kvm_irq_routing_entry.u_irqchip_pin, route.pin());
            }
            Libc.ioctl(vm, KVM_SET_GSI_ROUTING, s, "KVM_SET_GSI_ROUTING");
        }
    }

    /**
     * KVM_IRQFD: assigns (or with KVM_IRQFD_FLAG_DEASSIGN removes) an eventfd that raises {@code gsi};
     * with KVM_IRQFD_FLAG_RESAMPLE the line is level-triggered and {@code resampleFd} fires on its EOI.
     */
    public static void irqfd(Fd vm, int eventFd, int gsi, int flags, int resampleFd) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_irqfd.SIZE, 8);
            s.set(JAVA_INT, KvmAbi.kvm_irqfd.fd, eventFd);
            s.set(JAVA_INT, KvmAbi.kvm_irqfd.gsi, gsi);
            s.set(JAVA_INT, KvmAbi.kvm_irqfd.flags, flags);
            s.set(JAVA_INT, KvmAbi.kvm_irqfd.resamplefd, resampleFd);
            Libc.ioctl(vm, KVM_IRQFD, s, "KVM_IRQFD");
        }
    }

    /**
     * KVM_IOEVENTFD: assigns (or with KVM_IOEVENTFD_FLAG_DEASSIGN removes) an eventfd that a guest write
     * of {@code length} bytes at {@code address} signals inside KVM, with no exit to user space; with
     * KVM_IOEVENTFD_FLAG_DATAMATCH only a write of {@code datamatch} does.
     */
    public static void ioeventfd(Fd vm, long datamatch, long address, int length, int eventFd, int flags)
            throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_ioeventfd.SIZE, 8);
            s.set(JAVA_LONG, KvmAbi.kvm_ioeventfd.datamatch, datamatch);
            s.set(JAVA_LONG, KvmAbi.kvm_ioeventfd.addr, address);
            s.set(JAVA_INT, KvmAbi.kvm_ioeventfd.len, length);
            s.set(JAVA_INT, KvmAbi.kvm_ioeventfd.fd, eventFd);
            s.set(JAVA_INT, KvmAbi.kvm_ioeventfd.flags, flags);
            Libc.ioctl(vm, KVM_IOEVENTFD, s, "KVM_IOEVENTFD");
        }
    }

    /**
     * KVM_REGISTER_COALESCED_MMIO, or KVM_UNREGISTER_COALESCED_MMIO when {@code register} is false: guest
     * writes that fall wholly inside [{@code address}, {@code address + size}) are queued in the coalesced
     * MMIO ring instead of exiting (reads still exit).
     */
    public static void coalescedMmio(Fd vm, long address, int size, boolean register) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_coalesced_mmio_zone.SIZE, 8);
            s.set(JAVA_LONG, KvmAbi.kvm_coalesced_mmio_zone.addr, address);
            s.set(JAVA_INT, KvmAbi.kvm_coalesced_mmio_zone.size, size);
            s.set(JAVA_INT, KvmAbi.kvm_coalesced_mmio_zone.pio, 0);
            if (register) {
                Libc.ioctl(vm, KVM_REGISTER_COALESCED_MMIO, s, "KVM_REGISTER_COALESCED_MMIO");
            } else {
                Libc.ioctl(vm, KVM_UNREGISTER_COALESCED_MMIO, s, "KVM_UNREGISTER_COALESCED_MMIO");
            }
        }
    }

    /**
     * KVM_RUN: runs the vCPU until an exit; returns 0, or the negated errno for the expected failures
     * (EINTR, EAGAIN) so the caller treats them as values. Other errnos throw.
     *
     * <p>A successful run captures no errno. A failed one is issued again with errno captured, and that
     * call's outcome is the answer: KVM_RUN may always be entered again (an I/O completion was taken
     * by the first call; a kick's immediate_exit is still set, so a kick fails the second call at once;
     * after a stray signal the second call simply runs the guest on to its next exit).
     */
    public static int run(Fd vcpu) throws ErrnoException {
        int fd = vcpu.beginUse();
        try {
            if (Libc.ioctlWithoutErrno(fd, KVM_RUN, 0L) == 0) {
                return 0;
            }
            int result = Libc.ioctlOrNegativeErrno(fd, KVM_RUN, 0L);
            if (result < 0 && result != -Errno.EINTR && result != -Errno.EAGAIN) {
                throw new ErrnoException("KVM_RUN", -result);
            }
            return result;
        } finally {
            vcpu.endUse();
        }
    }

    /** KVM_GET_REGS. */
    public static Regs getRegs(Fd vcpu) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_regs.SIZE, 8);
            Libc.ioctl(vcpu, KVM_GET_REGS, s, "KVM_GET_REGS");
            return Regs.fromArray(s.toArray(JAVA_LONG));
        }
    }

    /** KVM_SET_REGS. */
    public static void setRegs(Fd vcpu, Regs regs) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_regs.SIZE, 8);
            MemorySegment.copy(regs.toArray(), 0, s, JAVA_LONG, 0, 18);
            Libc.ioctl(vcpu, KVM_SET_REGS, s, "KVM_SET_REGS");
        }
    }

    /** KVM_GET_SREGS. */
    public static Sregs getSregs(Fd vcpu) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_sregs.SIZE, 8);
            Libc.ioctl(vcpu, KVM_GET_SREGS, s, "KVM_GET_SREGS");
            return decodeSregs(s);
        }
    }

    /** KVM_SET_SREGS. */
    public static void setSregs(Fd vcpu, Sregs sregs) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_sregs.SIZE, 8);
            encodeSregs(sregs, s);
            Libc.ioctl(vcpu, KVM_SET_SREGS, s, "KVM_SET_SREGS");
        }
    }

    /** KVM_SET_CPUID2: the CPUID leaves the guest sees (before its first KVM_RUN). */
    public static void setCpuid2(Fd vcpu, List<CpuidEntry> entries) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = allocateCpuid2(call, entries.size());
            for (int i = 0; i < entries.size(); i++) {
                CpuidEntry entry = entries.get(i);
                long e = KvmAbi.kvm_cpuid2.entries + (long) i * KvmAbi.kvm_cpuid_entry2.SIZE;
                s.set(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.function, entry.function());
                s.set(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.index, entry.index());
                s.set(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.flags, entry.flags());
                s.set(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.eax, entry.eax());
                s.set(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.ebx, entry.ebx());
                s.set(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.ecx, entry.ecx());
                s.set(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.edx, entry.edx());
            }
            Libc.ioctl(vcpu, KVM_SET_CPUID2, s, "KVM_SET_CPUID2");
        }
    }

    /** KVM_GET_TSC_KHZ: the frequency, in kHz, at which KVM runs this vCPU's TSC. */
    public static int getTscKhz(Fd vcpu) throws ErrnoException {
        return Libc.ioctl(vcpu, KVM_GET_TSC_KHZ, 0L, "KVM_GET_TSC_KHZ");
    }

    /**
     * KVM_INTERRUPT: queues {@code vector} as an external interrupt, taken at the next entry. Only for a
     * vCPU without an in-kernel LAPIC, and only while kvm_run says it is ready for injection.
     */
    public static void interrupt(Fd vcpu, int vector) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_interrupt.SIZE, 4);
            s.set(JAVA_INT, KvmAbi.kvm_interrupt.irq, vector);
            Libc.ioctl(vcpu, KVM_INTERRUPT, s, "KVM_INTERRUPT");
        }
    }

    /** KVM_SET_MSRS: returns how many of the entries KVM set (it stops at the first it refuses). */
    public static int setMsrs(Fd vcpu, List<MsrEntry> entries) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = allocateMsrs(call, entries.size());
            for (int i = 0; i < entries.size(); i++) {
                long e = KvmAbi.kvm_msrs.entries + (long) i * KvmAbi.kvm_msr_entry.SIZE;
                s.set(JAVA_INT, e + KvmAbi.kvm_msr_entry.index, entries.get(i).index());
                s.set(JAVA_LONG, e + KvmAbi.kvm_msr_entry.data, entries.get(i).data());
            }
            return Libc.ioctl(vcpu, KVM_SET_MSRS, s, "KVM_SET_MSRS");
        }
    }

    /** KVM_GET_LAPIC: the vCPU's in-kernel LAPIC register page (1024 bytes, xAPIC layout). */
    public static byte[] getLapic(Fd vcpu) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_lapic_state.SIZE, 8);
            Libc.ioctl(vcpu, KVM_GET_LAPIC, s, "KVM_GET_LAPIC");
            return s.toArray(JAVA_BYTE);
        }
    }

    /** KVM_SET_LAPIC: replaces the vCPU's LAPIC register page (1024 bytes, as KVM_GET_LAPIC returned it). */
    public static void setLapic(Fd vcpu, byte[] regs) throws ErrnoException {
        if (regs.length != KvmAbi.kvm_lapic_state.SIZE) {
            throw new IllegalArgumentException(
                    "LAPIC state is " + KvmAbi.kvm_lapic_state.SIZE + " bytes, got " + regs.length);
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment s = call.allocate(KvmAbi.kvm_lapic_state.SIZE, 8);
            MemorySegment.copy(regs, 0, s, JAVA_BYTE, KvmAbi.kvm_lapic_state.regs, regs.length);
            Libc.ioctl(vcpu, KVM_SET_LAPIC, s, "KVM_SET_LAPIC");
        }
    }

    private static MemorySegment allocateCpuid2(Arena call, int entries) {
        MemorySegment s = call.allocate(KvmAbi.kvm_cpuid2.SIZE + (long) entries * KvmAbi.kvm_cpuid_entry2.SIZE, 8);
        s.set(JAVA_INT, KvmAbi.kvm_cpuid2.nent, entries);
        return s;
    }

    private static List<CpuidEntry> readCpuid2(MemorySegment s) {
        int count = s.get(JAVA_INT, KvmAbi.kvm_cpuid2.nent);
        List<CpuidEntry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long e = KvmAbi.kvm_cpuid2.entries + (long) i * KvmAbi.kvm_cpuid_entry2.SIZE;
            entries.add(new CpuidEntry(
                    s.get(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.function),
                    s.get(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.index),
                    s.get(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.flags),
                    s.get(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.eax),
                    s.get(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.ebx),
                    s.get(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.ecx),
                    s.get(JAVA_INT, e + KvmAbi.kvm_cpuid_entry2.edx)));
        }
        return entries;
    }

    private static MemorySegment allocateMsrs(Arena call, int entries) {
        MemorySegment s = call.allocate(KvmAbi.kvm_msrs.SIZE + (long) entries * KvmAbi.kvm_msr_entry.SIZE, 8);
        s.set(JAVA_INT, KvmAbi.kvm_msrs.nmsrs, entries);
        return s;
    }

    /** Encodes sregs into a kvm_sregs-sized segment (package-visible for the round-trip test). */
    static void encodeSregs(Sregs r, MemorySegment s) {
        encodeSegment(r.cs(), s, KvmAbi.kvm_sregs.cs);
        encodeSegment(r.ds(), s, KvmAbi.kvm_sregs.ds);
        encodeSegment(r.es(), s, KvmAbi.kvm_sregs.es);
        encodeSegment(r.fs(), s, KvmAbi.kvm_sregs.fs);
        encodeSegment(r.gs(), s, KvmAbi.kvm_sregs.gs);
        encodeSegment(r.ss(), s, KvmAbi.kvm_sregs.ss);
        encodeSegment(r.tr(), s, KvmAbi.kvm_sregs.tr);
        encodeSegment(r.ldt(), s, KvmAbi.kvm_sregs.ldt);
        encodeDtable(r.gdt(), s, KvmAbi.kvm_sregs.gdt);
        encodeDtable(r.idt(), s, KvmAbi.kvm_sregs.idt);
        s.set(JAVA_LONG, KvmAbi.kvm_sregs.cr0, r.cr0());
        s.set(JAVA_LONG, KvmAbi.kvm_sregs.cr2, r.cr2());
        s.set(JAVA_LONG, KvmAbi.kvm_sregs.cr3, r.cr3());
        s.set(JAVA_LONG, KvmAbi.kvm_sregs.cr4, r.cr4());
        s.set(JAVA_LONG, KvmAbi.kvm_sregs.cr8, r.cr8());
        s.set(JAVA_LONG, KvmAbi.kvm_sregs.efer, r.efer());
        s.set(JAVA_LONG, KvmAbi.kvm_sregs.apic_base, r.apicBase());
        long[] bitmap = r.interruptBitmap();
        for (int i = 0; i < bitmap.length; i++) {
            s.set(JAVA_LONG, KvmAbi.kvm_sregs.interrupt_bitmap + 8L * i, bitmap[i]);
        }
    }

    static Sregs decodeSregs(MemorySegment s) {
        long[] bitmap = new long[KvmAbi.kvm_sregs.INTERRUPT_BITMAP_WORDS];
        for (int i = 0; i < bitmap.length; i++) {
            bitmap[i] = s.get(JAVA_LONG, KvmAbi.kvm_sregs.interrupt_bitmap + 8L * i);
        }
        return new Sregs(
                decodeSegment(s, KvmAbi.kvm_sregs.cs),
                decodeSegment(s, KvmAbi.kvm_sregs.ds),
                decodeSegment(s, KvmAbi.kvm_sregs.es),
                decodeSegment(s, KvmAbi.kvm_sregs.fs),
                decodeSegment(s, KvmAbi.kvm_sregs.gs),
                decodeSegment(s, KvmAbi.kvm_sregs.ss),
                decodeSegment(s, KvmAbi.kvm_sregs.tr),
                decodeSegment(s, KvmAbi.kvm_sregs.ldt),
                decodeDtable(s, KvmAbi.kvm_sregs.gdt),
                decodeDtable(s, KvmAbi.kvm_sregs.idt),
                s.get(JAVA_LONG, KvmAbi.kvm_sregs.cr0),
                s.get(JAVA_LONG, KvmAbi.kvm_sregs.cr2),
                s.get(JAVA_LONG, KvmAbi.kvm_sregs.cr3),
                s.get(JAVA_LONG, KvmAbi.kvm_sregs.cr4),
                s.get(JAVA_LONG, KvmAbi.kvm_sregs.cr8),
                s.get(JAVA_LONG, KvmAbi.kvm_sregs.efer),
                s.get(JAVA_LONG, KvmAbi.kvm_sregs.apic_base),
                bitmap);
    }

    private static void encodeSegment(Segment g, MemorySegment s, long at) {
        s.set(JAVA_LONG, at + KvmAbi.kvm_segment.base, g.base());
        s.set(JAVA_INT, at + KvmAbi.kvm_segment.limit, g.limit());
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.selector, (byte) g.selector());
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.selector + 1, (byte) (g.selector() >>> 8));
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.type, (byte) g.type());
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.present, bit(g.present()));
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.dpl, (byte) g.dpl());
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.db, bit(g.db()));
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.s, bit(g.s()));
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.l, bit(g.l()));
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.g, bit(g.g()));
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.avl, bit(g.avl()));
        s.set(JAVA_BYTE, at + KvmAbi.kvm_segment.unusable, bit(g.unusable()));
    }

    private static Segment decodeSegment(MemorySegment s, long at) {
        int selector = Byte.toUnsignedInt(s.get(JAVA_BYTE, at + KvmAbi.kvm_segment.selector))
                | Byte.toUnsignedInt(s.get(JAVA_BYTE, at + KvmAbi.kvm_segment.selector + 1)) << 8;
        return new Segment(
                s.get(JAVA_LONG, at + KvmAbi.kvm_segment.base),
                s.get(JAVA_INT, at + KvmAbi.kvm_segment.limit),
                selector,
                Byte.toUnsignedInt(s.get(JAVA_BYTE, at + KvmAbi.kvm_segment.type)),
                flag(s, at + KvmAbi.kvm_segment.present),
                Byte.toUnsignedInt(s.get(JAVA_BYTE, at + KvmAbi.kvm_segment.dpl)),
                flag(s, at + KvmAbi.kvm_segment.db),
                flag(s, at + KvmAbi.kvm_segment.s),
                flag(s, at + KvmAbi.kvm_segment.l),
                flag(s, at + KvmAbi.kvm_segment.g),
                flag(s, at + KvmAbi.kvm_segment.avl),
                flag(s, at + KvmAbi.kvm_segment.unusable));
    }

    private static void encodeDtable(DescriptorTable t, MemorySegment s, long at) {
        s.set(JAVA_LONG, at + KvmAbi.kvm_dtable.base, t.base());
        s.set(JAVA_BYTE, at + KvmAbi.kvm_dtable.limit, (byte) t.limit());
        s.set(JAVA_BYTE, at + KvmAbi.kvm_dtable.limit + 1, (byte) (t.limit() >>> 8));
    }

    private static DescriptorTable decodeDtable(MemorySegment s, long at) {
        int limit = Byte.toUnsignedInt(s.get(JAVA_BYTE, at + KvmAbi.kvm_dtable.limit))
                | Byte.toUnsignedInt(s.get(JAVA_BYTE, at + KvmAbi.kvm_dtable.limit + 1)) << 8;
        return new DescriptorTable(s.get(JAVA_LONG, at + KvmAbi.kvm_dtable.base), limit);
    }

    private static byte bit(boolean value) {
        return (byte) (value ? 1 : 0);
    }

    private static boolean flag(MemorySegment s, long at) {
        return s.get(JAVA_BYTE, at) != 0;
    }
}
