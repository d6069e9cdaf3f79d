package io.jvfio.sys.kvm.vcpu;

/** struct kvm_regs: the general-purpose registers of a vCPU (KVM_GET_REGS / KVM_SET_REGS). */
public record Regs(
        long rax,
        long rbx,
        long rcx,
        long rdx,
        long rsi,
        long rdi,
        long rsp,
        long rbp,
        long r8,
        long r9,
        long r10,
        long r11,
        long r12,
        long r13,
        long r14,
        long r15,
        long rip,
        long rflags) {

    /** All registers zero except RFLAGS bit 1, which is always set on x86. */
    public static Regs initial() {
        return new Regs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2);
    }

    /** The registers in struct kvm_regs order. */
    public long[] toArray() {
        return new long[] {rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags};
    }

    /** Registers in struct kvm_regs order, as {@link #toArray()} gives them. */
    public static Regs fromArray(long[] r) {
        return new Regs(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15],
                r[16], r[17]);
    }

    public Regs withRip(long value) {
        long[] r = toArray();
        r[16] = value;
        return fromArray(r);
    }

    public Regs withRsp(long value) {
        long[] r = toArray();
        r[6] = value;
        return fromArray(r);
    }

    public Regs withRbx(long value) {
        long[] r = toArray();
        r[1] = value;
        return fromArray(r);
    }

    public Regs withRsi(long value) {
        long[] r = toArray();
        r[4] = value;
        return fromArray(r);
    }

    public Regs withRdi(long value) {
        long[] r = toArray();
        r[5] = value;
        return fromArray(r);
    }

    public Regs withRflags(long value) {
        long[] r = toArray();
        r[17] = value;
        return fromArray(r);
    }
}
