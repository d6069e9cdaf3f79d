package io.jvfio.kvm;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.ThreadKick;
import io.jvfio.sys.kvm.KvmAbi;
import io.jvfio.sys.kvm.KvmIoctls;
import io.jvfio.sys.kvm.KvmRunView;
import io.jvfio.sys.kvm.ring.CoalescedMmioRing;
import io.jvfio.sys.kvm.vcpu.CpuidEntry;
import io.jvfio.sys.kvm.vcpu.MsrEntry;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Sregs;
import java.util.List;

/**
 * One vCPU: its registers, CPUID and MSRs, its mmap'ed kvm_run, and {@link #run()}.
 *
 * <p>Kicking: {@link #kick()} (any thread) sets kvm_run.immediate_exit and sends SIGURG to the thread
 * inside {@link #run()}. SIGURG has a no-op native handler ({@link ThreadKick}) and the
 * running thread does not block it, so the signal ends KVM_RUN with EINTR, and immediate_exit covers a
 * kick that lands just before KVM_RUN. No KVM_SET_SIGNAL_MASK: a vCPU signal mask makes KVM swap the
 * thread's mask on every entry and exit, about 5% of a trapped exit measured under nested KVM. A
 * thread that called {@link #run()} calls {@link #releaseThread()} before it ends.
 */
public final class Vcpu implements AutoCloseable {
    private final int id;
    private final Fd fd;
    private final KvmRunView run;
    private final Object threadLock = new Object();
    private volatile Thread boundThread;
    private ThreadKick boundKick;
    /** {@link #exitEvery}'s delay and period for the next run, 0 for none; touched by the running thread only. */
    private long nextRunFirstExitNanos;

    private long nextRunExitPeriodNanos;

    Vcpu(int id, Fd fd, KvmRunView run) {
        this.id = id;
        this.fd = fd;
        this.run = run;
    }

    /** The vCPU's fd, for this package's tests. */
    Fd fd() {
        return fd;
    }

    public int id() {
        return id;
    }

    /** KVM_GET_REGS. */
    public Regs regs() throws ErrnoException {
        return KvmIoctls.getRegs(fd);
    }

    /** KVM_SET_REGS. */
    public void setRegs(Regs regs) throws ErrnoException {
        KvmIoctls.setRegs(fd, regs);
    }

    /** KVM_GET_SREGS. */
    public Sregs sregs() throws ErrnoException {
        return KvmIoctls.getSregs(fd);
    }

    /** KVM_SET_SREGS. */
    public void setSregs(Sregs sregs) throws ErrnoException {
        KvmIoctls.setSregs(fd, sregs);
    }

    /** KVM_SET_CPUID2: the CPUID the guest sees; call before the first run. */
    public void setCpuid(List<CpuidEntry> entries) throws ErrnoException {
        KvmIoctls.setCpuid2(fd, entries);
    }

    /** KVM_GET_TSC_KHZ: the frequency, in kHz, of this vCPU's TSC as KVM runs it. */
    public int tscKhz() throws ErrnoException {
        return KvmIoctls.getTscKhz(fd);
    }

    /** KVM_SET_MSRS: fails naming the first MSR KVM refused. */
    public void setMsrs(List<MsrEntry> entries) throws ErrnoException {
        int set = KvmIoctls.setMsrs(fd, entries);
        if (set != entries.size()) {
            throw new IllegalArgumentException("vcpu " + id + ": KVM_SET_MSRS refused MSR 0x"
                    + Integer.toHexString(entries.get(set).index()));
        }
    }

    /** KVM_GET_LAPIC: a copy of the in-kernel LAPIC's registers (the VM needs an in-kernel irqchip). */
    public LapicState lapicState() throws ErrnoException {
        return new LapicState(KvmIoctls.getLapic(fd));
    }

    /** KVM_SET_LAPIC: replaces the in-kernel LAPIC's registers. */
    public void setLapicState(LapicState state) throws ErrnoException {
        KvmIoctls.setLapic(fd, state.bytes());
    }

    /**
     * KVM_RUN: enters the guest until the next exit and decodes it. EINTR/EAGAIN (a kick) come back as
     * {@link VcpuExit#INTERRUPTED}. Other failures throw.
     */
    public VcpuExit run() throws ErrnoException {
        if (boundThread != Thread.currentThread()) {
            bindCurrentThread();
        }
        int result;
        if (nextRunExitPeriodNanos > 0) {
            boundKick.kickEvery(nextRunFirstExitNanos, nextRunExitPeriodNanos);
            nextRunFirstExitNanos = 0;
            nextRunExitPeriodNanos = 0;
            try {
                result = KvmIoctls.run(fd);
            } finally {
                boundKick.stopKicks();
            }
        } else {
            result = KvmIoctls.run(fd);
        }
        if (result < 0) {
            return interrupted();
        }
        return decode();
    }

    /**
     * KVM_RUN with immediate_exit set, on the thread that runs this vCPU: KVM finishes the instruction of the
     * last exit (an I/O or MMIO access) and runs no further one. KVM documents the guest's state as
     * consistent only after that; a register set before it can be overwritten where KVM emulated the
     * instruction, whose completion writes back the RIP it decoded. False where KVM_RUN ended with an exit
     * instead (the completion itself needed user space), whose state is then in kvm_run.
     */
    public boolean completeLastExit() throws ErrnoException {
        if (boundThread != Thread.currentThread()) {
            bindCurrentThread();
        }
        run.setImmediateExit(true);
        int result = KvmIoctls.run(fd);
        run.setImmediateExit(false);
        return result < 0;
    }

    private VcpuExit interrupted() {
        run.setImmediateExit(false);
        return VcpuExit.INTERRUPTED;
    }

    private VcpuExit decode() throws ErrnoException {
        int reason = run.exitReason();
        return switch (reason) {
            case KvmAbi.KVM_EXIT_IO -> {
                if (run.ioCount() != 1) {
                    yield new VcpuExit.Unknown(reason);
                }
                yield run.ioIsOut()
                        ? new VcpuExit.IoOut(run.ioPort(), run.ioSize(), run.ioData(0))
                        : new VcpuExit.IoIn(run.ioPort(), run.ioSize());
            }
            case KvmAbi.KVM_EXIT_MMIO ->
                run.mmioIsWrite()
                        ? new VcpuExit.MmioWrite(run.mmioPhysAddr(), run.mmioLen(), run.mmioData())
                        : new VcpuExit.MmioRead(run.mmioPhysAddr(), run.mmioLen());
            case KvmAbi.KVM_EXIT_HLT -> VcpuExit.HALT;
            case KvmAbi.KVM_EXIT_IRQ_WINDOW_OPEN -> VcpuExit.IRQ_WINDOW_OPEN;
            case KvmAbi.KVM_EXIT_SET_TPR -> VcpuExit.TASK_PRIORITY_LOWERED;
            case KvmAbi.KVM_EXIT_SHUTDOWN -> VcpuExit.SHUTDOWN;
            case KvmAbi.KVM_EXIT_INTR -> interrupted();
            case KvmAbi.KVM_EXIT_FAIL_ENTRY ->
                new VcpuExit.FailEntry(run.failEntryHardwareReason(), run.failEntryCpu());
            case KvmAbi.KVM_EXIT_INTERNAL_ERROR -> new VcpuExit.InternalError(run.internalSuberror());
            case KvmAbi.KVM_EXIT_SYSTEM_EVENT -> new VcpuExit.SystemEvent(run.systemEventType());
            default -> new VcpuExit.Unknown(reason);
        };
    }

    /**
     * Whether an interrupt queued now with {@link #injectInterrupt} is taken at the next entry: kvm_run's
     * ready_for_interrupt_injection and the guest's IF, as of the last exit.
     */
    public boolean canTakeInterrupt() {
        return run.readyForInterruptInjection() && run.interruptFlag();
    }

    /** The guest's RFLAGS.IF as of the last exit (kvm_run.if_flag). */
    public boolean interruptsEnabled() {
        return run.interruptFlag();
    }

    /**
     * The guest's CR8, its task-priority class, as of the last exit (kvm_run.cr8). Without an in-kernel
     * LAPIC, CR8 is the user-space LAPIC's TPR[7:4] (SDM 10.8.6.1), so the VMM reads it after each exit and
     * hands it back with {@link #setCr8} before the next.
     */
    public int cr8() {
        return run.cr8();
    }

    /** The CR8 KVM loads at the next {@link #run()} (0-15; without an in-kernel LAPIC only). */
    public void setCr8(int cr8) {
        run.setCr8(cr8);
    }

    /**
     * The VM's coalesced MMIO ring as this vCPU's mapping shows it, in page {@code page} ({@link
     * Vm#coalescedMmioPage}); valid until this vCPU is closed.
     */
    public CoalescedMmioRing coalescedMmioRing(int page) {
        return run.coalescedMmioRing(page);
    }

    /** KVM_INTERRUPT: the guest takes {@code vector} at the next entry (no in-kernel LAPIC only). */
    public void injectInterrupt(int vector) throws ErrnoException {
        KvmIoctls.interrupt(fd, vector);
    }

    /** kvm_run.request_interrupt_window: exit with {@link VcpuExit.IrqWindowOpen} once the guest can take one. */
    public void requestInterruptWindow(boolean requested) {
        run.setRequestInterruptWindow(requested);
    }

    /**
     * On the thread that runs this vCPU: the next {@link #run()} also returns {@link VcpuExit#INTERRUPTED}
     * after {@code firstNanos} and then every {@code periodNanos} (both > 0) while the guest runs without
     * exits, as if kicked. For an interrupt waiting for the guest's interrupt window: a software KVM that
     * emulates the guest takes the window exit only between batches of instructions (about 0.6 ms apart
     * where measured) but a signal within about 20 us, so a periodic look at kvm_run's interrupt flag
     * finds an open window far sooner.
     */
    public void exitEvery(long firstNanos, long periodNanos) {
        if (firstNanos <= 0 || periodNanos <= 0) {
            throw new IllegalArgumentException("vcpu " + id + ": exits need a positive delay and period, got "
                    + firstNanos + " ns and " + periodNanos + " ns");
        }
        nextRunFirstExitNanos = firstNanos;
        nextRunExitPeriodNanos = periodNanos;
    }

    /**
     * Completes the in exit just returned ({@link VcpuExit.IoIn} or {@link VcpuExit.MmioRead}): writes the
     * low bytes of {@code value} where the guest's read picks them up on the next run.
     */
    public void completeRead(long value) {
        switch (run.exitReason()) {
            case KvmAbi.KVM_EXIT_IO -> {
                if (run.ioIsOut()) {
                    throw new IllegalStateException("vcpu " + id + ": the last exit was an I/O write, not a read");
                }
                run.setIoData(0, value);
            }
            case KvmAbi.KVM_EXIT_MMIO -> {
                if (run.mmioIsWrite()) {
                    throw new IllegalStateException("vcpu " + id + ": the last exit was an MMIO write, not a read");
                }
                run.setMmioData(value);
            }
            default ->
                throw new IllegalStateException(
                        "vcpu " + id + ": exit reason " + run.exitReason() + " has no read to complete");
        }
    }

    private void bindCurrentThread() throws ErrnoException {
        synchronized (threadLock) {
            if (boundThread != null) {
                throw new IllegalStateException("vcpu " + id + " already runs on " + boundThread.getName());
            }
            boundKick = ThreadKick.bindCurrentThread();
            boundThread = Thread.currentThread();
        }
    }

    /**
     * Unbinds the calling thread (the one that ran this vCPU): no more kicks reach it, and its signal mask
     * is restored. Does nothing when called from another thread or when not bound.
     */
    public void releaseThread() {
        synchronized (threadLock) {
            if (boundThread != Thread.currentThread()) {
                return;
            }
            try {
                boundKick.release();
            } catch (ErrnoException e) {
                throw new IllegalStateException("vcpu " + id + ": cannot restore the signal mask", e);
            }
            boundThread = null;
            boundKick = null;
        }
    }

    /**
     * Makes the current or next {@link #run()} return {@link VcpuExit#INTERRUPTED} soon: sets
     * immediate_exit and signals the running thread. Safe from any thread.
     */
    public void kick() {
        synchronized (threadLock) {
            if (!fd.isOpen()) {
                return;
            }
            run.setImmediateExit(true);
            if (boundKick != null) {
                boundKick.kick();
            }
        }
    }

    /** Unmaps kvm_run and closes the vCPU fd. Stop the thread running it first. */
    @Override
    public void close() {
        synchronized (threadLock) {
            run.close();
            fd.close();
        }
    }
}
