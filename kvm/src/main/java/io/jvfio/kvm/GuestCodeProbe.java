package io.jvfio.kvm;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.vcpu.DescriptorTable;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Segment;
import io.jvfio.sys.kvm.vcpu.Sregs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Whether this host's KVM runs the guest instructions a stock Linux kernel executes at boot, found out by
 * running one: a 32-bit protected-mode guest executes {@code int3}, whose handler (an interrupt gate in
 * its IDT) writes an I/O port. A KVM on hardware virtualization runs it; a software KVM whose instruction
 * emulator cannot deliver {@code int3} outside real mode ({@code kvm_pvm}) stops with an emulation error,
 * and there Linux's {@code int3_selftest()} fails the same way. Decided by behaviour, never by the module's name. {@code main} exits 0 (runs) or 1 (does not),
 * for scripts, and 2 where the probe could not tell.
 */
public final class GuestCodeProbe {
    private static final int RAM_SIZE = 4096;
    private static final int GDT = 0x100;
    private static final int IDT = 0x200;
    private static final int CODE_SELECTOR = 0x08;
    private static final int DATA_SELECTOR = 0x10;
    /** Null, then flat 4 GiB code (execute/read, 32-bit, 4 KiB granularity) and data (read/write). */
    private static final long[] GDT_ENTRIES = {0, 0x00CF_9A00_0000_FFFFL, 0x00CF_9200_0000_FFFFL};
    /** A present, ring-0, 32-bit interrupt gate. */
    private static final int INTERRUPT_GATE = 0x8E;

    /** A 32-bit TSS's smallest limit (104 bytes), as PVH enters with. */
    private static final int TSS_LIMIT = 0x67;

    private static final long CR0_PE_ET = 0x11;
    private static final int CODE = 0x500;
    private static final int HANDLER = 0x510;
    private static final int STACK_TOP = 0xFF0;
    private static final int HANDLER_PORT = 0x10;
    private static final int BREAKPOINT_VECTOR = 3;
    /** int3; hlt. */
    private static final byte[] CODE_BYTES = {(byte) 0xCC, (byte) 0xF4};
    /** out %al, $0x10; cli; hlt. */
    private static final byte[] HANDLER_BYTES = {(byte) 0xE6, HANDLER_PORT, (byte) 0xFA, (byte) 0xF4};
    /**
     * A KVM that cannot run the guest says so at once (an emulation failure); this bound is only for one
     * that is slow: inside the nested guest, under TCG with another nested guest beside it, 2 s ran out.
     */
    private static final Duration BOUND = Duration.ofSeconds(30);

    /** What the probe found. */
    enum Answer {
        /** The breakpoint's handler ran. */
        RUNS,
        /** The guest stopped with another exit instead: this KVM cannot run it. */
        DOES_NOT_RUN,
        /** KVM could not be opened, refused an ioctl or did not answer in time: nothing said of the guest. */
        PROBE_FAILED
    }

    /** The answer and, unless it is {@link Answer#RUNS}, what the guest did instead or why the probe failed. */
    record Outcome(Answer answer, String detail) {}

    private static Outcome host;

    private GuestCodeProbe() {}

    /**
     * The answer for /dev/kvm, probed once per process.
     *
     * @throws IOException where the probe could not tell (no usable /dev/kvm, an ioctl refused, no answer in
     *     time), which must not pass for a KVM that cannot run a stock kernel
     */
    public static boolean runsInt3() throws IOException {
        Outcome outcome = outcome();
        if (outcome.answer() == Answer.PROBE_FAILED) {
            throw new IOException("the probe of " + Kvm.DEVICE + " failed: " + outcome.detail());
        }
        return outcome.answer() == Answer.RUNS;
    }

    private static synchronized Outcome outcome() {
        if (host == null) {
            host = probe(Kvm.DEVICE, BOUND);
        }
        return host;
    }

    static Outcome probe(Path device, Duration bound) {
        try (Kvm kvm = Kvm.open(device);
                Mapping ram = Mapping.anonymous(RAM_SIZE, "guest code probe RAM");
                Vm vm = kvm.createVm()) {
            ram.copyFrom(CODE_BYTES, 0, CODE, CODE_BYTES.length);
            ram.copyFrom(HANDLER_BYTES, 0, HANDLER, HANDLER_BYTES.length);
            for (int i = 0; i < GDT_ENTRIES.length; i++) {
                ram.putLong(GDT + 8L * i, GDT_ENTRIES[i]);
            }
            long gate = IDT + 8L * BREAKPOINT_VECTOR;
            ram.putShort(gate, (short) HANDLER);
            ram.putShort(gate + 2, (short) CODE_SELECTOR);
            ram.putShort(gate + 4, (short) (INTERRUPT_GATE << 8));
            ram.putShort(gate + 6, (short) (HANDLER >>> 16));
            vm.addMemorySlot(0, 0, ram);
            Vcpu vcpu = vm.createVcpu(0);
            try {
                vcpu.setSregs(protectedMode(vcpu.sregs()));
                vcpu.setRegs(Regs.initial().withRip(CODE).withRsp(STACK_TOP));
                return IrqchipProbe.runUntil(
                                vcpu, exit -> !(exit instanceof VcpuExit.Interrupted), "its first exit", bound)
                        .map(GuestCodeProbe::outcomeOf)
                        .orElseGet(() -> new Outcome(
                                Answer.PROBE_FAILED,
                                "the guest neither reached the breakpoint's handler nor stopped within "
                                        + bound.toSeconds() + " s"));
            } finally {
                vcpu.releaseThread();
            }
        } catch (KvmUnavailableException | ErrnoException | IrqchipProbe.ProbeFailedException e) {
            return new Outcome(Answer.PROBE_FAILED, e.getMessage());
        }
    }

    /**
     * What the guest's first exit says. Only an exit of the guest's own doing means this KVM does not run
     * it (its emulator gave up, the guest faulted to a shutdown, or went astray to a halt, a port or
     * memory); an exit that says KVM would not enter the vCPU, or one this code does not know, says nothing
     * of the guest's instructions and must not send Linux to the nested guest on a host that could run it.
     */
    static Outcome outcomeOf(VcpuExit exit) {
        if (exit instanceof VcpuExit.IoOut out && out.port() == HANDLER_PORT) {
            return new Outcome(Answer.RUNS, "");
        }
        return switch (exit) {
            case VcpuExit.FailEntry _, VcpuExit.Unknown _, VcpuExit.SystemEvent _ ->
                new Outcome(Answer.PROBE_FAILED, "KVM_RUN of the probe's guest ended with " + exit);
            default ->
                new Outcome(
                        Answer.DOES_NOT_RUN,
                        "the guest stopped with " + exit + " instead of reaching its breakpoint's handler");
        };
    }

    /** Flat 32-bit segments, the probe's GDT and IDT, PE set; the rest as KVM's reset state has it. */
    private static Sregs protectedMode(Sregs initial) {
        return initial.entering(
                Segment.flat(CODE_SELECTOR, Segment.TYPE_CODE_EXECUTE_READ_ACCESSED, true, false),
                Segment.flat(DATA_SELECTOR, Segment.TYPE_DATA_READ_WRITE_ACCESSED, true, false),
                Segment.busyTss32(initial.tr().selector(), TSS_LIMIT),
                new DescriptorTable(GDT, GDT_ENTRIES.length * 8 - 1),
                new DescriptorTable(IDT, 8 * (BREAKPOINT_VECTOR + 1) - 1),
                CR0_PE_ET,
                0,
                0,
                0);
    }

    public static void main(String[] args) {
        System.exit(report(outcome(), System.out, System.err));
    }

    /**
     * Prints {@code outcome} for scripts and returns the exit status: 0 runs, 1 does not (the one line on
     * {@code out} starting "this KVM does not run", which scripts match), 2 the probe failed (on {@code err}).
     */
    static int report(Outcome outcome, PrintStream out, PrintStream err) {
        return switch (outcome.answer()) {
            case RUNS -> {
                out.println("this KVM runs int3 in its guests: a stock Linux kernel can boot");
                yield 0;
            }
            case DOES_NOT_RUN -> {
                out.println("this KVM does not run int3 in its guests (" + outcome.detail()
                        + "): a stock Linux kernel cannot boot");
                yield 1;
            }
            case PROBE_FAILED -> {
                err.println("the probe of " + Kvm.DEVICE + " failed: " + outcome.detail());
                yield 2;
            }
        };
    }
}
