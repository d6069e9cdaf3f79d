package io.jvfio.kvm;

import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Segment;
import io.jvfio.sys.kvm.vcpu.Sregs;
import java.io.IOException;

/**
 * The kvm tests' small guest: a VM with KVM's in-kernel irqchip, one page of RAM at 0 and one vCPU in
 * real mode whose code the test writes as bytes. DS reaches all 4 GiB ("unreal" mode: a 16-bit CPU with a
 * 4 GiB data segment limit), so the guest's own code can address its LAPIC at 0xFEE00000 with 32-bit
 * address-size prefixes. Its set-up is its own, not the probe's, so a test can check the probe against it.
 */
final class RealModeGuest implements AutoCloseable {
    /** The guest's code is expected to start here. */
    static final int START = 0x500;

    private static final int STACK_TOP = 0xFF0;

    /**
     * The guest software-enables its own LAPIC (SVR = 0x1FF, as an OS does; until then the LAPIC drops
     * fixed interrupts) and then writes port {@value #READY_PORT}: {@code mov dword [0xFEE000F0], 0x1FF;
     * out %al, $READY_PORT}.
     */
    static final int READY_PORT = 0x12;

    static final byte[] ENABLE_LAPIC_THEN_READY = {
        0x66,
        0x67,
        (byte) 0xC7,
        0x05,
        (byte) 0xF0,
        0x00,
        (byte) 0xE0,
        (byte) 0xFE,
        (byte) 0xFF,
        0x01,
        0x00,
        0x00,
        (byte) 0xE6,
        READY_PORT
    };
    /** sti; hlt; jmp back to the hlt. */
    static final byte[] IDLE = {(byte) 0xFB, (byte) 0xF4, (byte) 0xEB, (byte) 0xFD};

    private final Kvm kvm;
    private final Mapping ram;
    private final Vm vm;
    private final Vcpu vcpu;

    private RealModeGuest(Kvm kvm, Mapping ram, Vm vm, Vcpu vcpu) {
        this.kvm = kvm;
        this.ram = ram;
        this.vm = vm;
        this.vcpu = vcpu;
    }

    /** The guest with {@code code} at {@link #START}, where its vCPU starts. */
    static RealModeGuest create(byte[] code) throws IOException {
        return create(code, true);
    }

    /**
     * As {@link #create}, without KVM's irqchip, as a machine on jvfio's own irqchip runs: interrupts then
     * go in by KVM_INTERRUPT and interrupt-window exits, not a LAPIC of KVM's.
     */
    static RealModeGuest withoutIrqchip(byte[] code) throws IOException {
        return create(code, false);
    }

    private static RealModeGuest create(byte[] code, boolean irqchip) throws IOException {
        Kvm kvm = Kvm.open();
        Mapping ram = null;
        Vm vm = null;
        try {
            ram = Mapping.anonymous(4096, "real-mode test guest RAM");
            vm = kvm.createVm();
            if (irqchip) {
                vm.createIrqchip();
            }
            vm.addMemorySlot(0, 0, ram);
            Vcpu vcpu = vm.createVcpu(0);
            Sregs s = vcpu.sregs();
            vcpu.setSregs(s.withCsAndDs(flat(s.cs(), s.cs().limit()), flat(s.ds(), 0xFFFFFFFF)));
            vcpu.setRegs(Regs.initial().withRip(START).withRsp(STACK_TOP));
            RealModeGuest guest = new RealModeGuest(kvm, ram, vm, vcpu);
            guest.write(START, code);
            return guest;
        } catch (IOException | RuntimeException e) {
            if (vm != null) {
                vm.close();
            }
            if (ram != null) {
                ram.close();
            }
            kvm.close();
            throw e;
        }
    }

    /** Selector 0, base 0 (the reset state's CS is the BIOS's, F000 at 0xFFFF0000); a 4 GiB limit needs G. */
    private static Segment flat(Segment reset, int limit) {
        boolean pageGranular = Integer.compareUnsigned(limit, 0xFFFFF) > 0;
        return new Segment(
                0, limit, 0, reset.type(), true, 0, reset.db(), true, false, pageGranular, reset.avl(), false);
    }

    /** Writes {@code code} at {@code address} and points interrupt vector {@code vector} at it. */
    void handler(int vector, int address, byte[] code) {
        write(address, code);
        ram.putShort(vector * 4L, (short) address);
        ram.putShort(vector * 4L + 2, (short) 0);
    }

    void write(int address, byte[] bytes) {
        ram.copyFrom(bytes, 0, address, bytes.length);
    }

    /** The 16-bit word at {@code address}, as the guest left it. */
    int word(int address) {
        return Short.toUnsignedInt(ram.getShort(address));
    }

    Vm vm() {
        return vm;
    }

    Vcpu vcpu() {
        return vcpu;
    }

    /** Releases the calling thread from the vCPU, then closes the VM, its RAM and /dev/kvm. */
    @Override
    public void close() {
        vcpu.releaseThread();
        vm.close();
        ram.close();
        kvm.close();
    }
}
