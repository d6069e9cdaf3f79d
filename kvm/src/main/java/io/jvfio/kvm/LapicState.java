package io.jvfio.kvm;

import io.jvfio.sys.kvm.KvmAbi;

/**
 * A copy of a vCPU's in-kernel LAPIC register page (KVM_GET_LAPIC), in the xAPIC layout the guest sees
 * at 0xFEE00000: 32-bit registers at 16-byte strides. Immutable; {@link #withRegister} gives a changed
 * copy to hand to {@link Vcpu#setLapicState}.
 */
public final class LapicState {
    /** Task priority: vectors whose class is not above it stay pending. */
    public static final int TPR = 0x80;
    /** Spurious interrupt vector register; bit 8 software-enables the LAPIC. */
    public static final int SVR = 0xF0;
    /** SVR bit 8: the LAPIC accepts interrupts (it comes out of reset disabled). */
    public static final int SVR_APIC_ENABLED = 0x100;
    /** In-service register: 256 bits in eight registers, vector v at ISR + 0x10 * (v / 32), bit v % 32. */
    public static final int ISR = 0x100;

    private final byte[] regs;

    LapicState(byte[] regs) {
        if (regs.length != KvmAbi.kvm_lapic_state.SIZE) {
            throw new IllegalArgumentException(
                    "LAPIC state is " + KvmAbi.kvm_lapic_state.SIZE + " bytes, got " + regs.length);
        }
        this.regs = regs.clone();
    }

    /** The 32-bit register at {@code offset} (a multiple of 16 below 0x400). */
    public int register(int offset) {
        checkOffset(offset);
        return (regs[offset] & 0xff)
                | (regs[offset + 1] & 0xff) << 8
                | (regs[offset + 2] & 0xff) << 16
                | (regs[offset + 3] & 0xff) << 24;
    }

    /** A copy with the register at {@code offset} set to {@code value}. */
    public LapicState withRegister(int offset, int value) {
        checkOffset(offset);
        byte[] changed = regs.clone();
        for (int i = 0; i < 4; i++) {
            changed[offset + i] = (byte) (value >>> (8 * i));
        }
        return new LapicState(changed);
    }

    /** Whether {@code vector} is in service: delivered to the CPU and not yet ended by an EOI. */
    public boolean inService(int vector) {
        if (vector < 0 || vector > 255) {
            throw new IllegalArgumentException("vector " + vector + " is not 0..255");
        }
        return (register(ISR + 0x10 * (vector / 32)) >>> (vector % 32) & 1) != 0;
    }

    byte[] bytes() {
        return regs.clone();
    }

    private static void checkOffset(int offset) {
        if (offset < 0 || offset >= KvmAbi.kvm_lapic_state.KVM_APIC_REG_SIZE || offset % 16 != 0) {
            throw new IllegalArgumentException("LAPIC register offset 0x" + Integer.toHexString(offset)
                    + " is not a multiple of 0x10 below 0x400");
        }
    }
}
