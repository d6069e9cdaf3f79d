package io.jvfio.kvm;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Sregs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Finds out whether this host's in-kernel irqchip keeps an interrupt in service until the guest's EOI.
 * No KVM capability tells: a software KVM ({@code kvm_pvm}) ends every interrupt when the vCPU takes it,
 * so only running a guest shows it.
 *
 * <p>The probe builds a VM of one real-mode vCPU and one page of RAM with KVM's in-kernel irqchip, routes
 * IOAPIC pin 20 (level) to vector 0x30 and raises it through an irqfd with a resamplefd,
 * as jvfio wires a device's level interrupt. The guest waits in {@code sti; hlt}; its handler's first
 * instruction writes an I/O port of that vector's own, which exits to the probe before the guest could have
 * written any EOI.
 * There the probe reads the LAPIC's in-service bit, the pin's remote IRR and whether the resamplefd fired
 * (documented: 1, 1, no). It then signals an MSI (vector 0x40, a higher priority class, so documented KVM
 * delivers it while 0x30 is still in service) and reads its in-service bit the same way.
 *
 * <p>A run that cannot finish is a {@link IrqchipSemantics.Verdict#PROBE_FAILED} verdict that says why,
 * never an exception: no /dev/kvm, a missing capability, an ioctl refused, or no interrupt reaching its
 * handler within 15 s (a watchdog thread kicks the vCPU out of KVM_RUN).
 * The vCPU runs on the calling thread, which must be a platform thread like every vCPU thread.
 */
public final class IrqchipProbe {
    /**
     * How long an interrupt may take from being raised to its handler's first instruction. It takes
     * microseconds on hardware; a process's first probe inside the nested guest (software emulation,
     * cold JIT) once needed 1.6 s, and a bound it missed made auto choose jvfio's irqchip for no reason.
     * 2 s were missed too, with another nested guest and a build beside it: auto then booted Linux on
     * jvfio's irqchip, 2.4 times slower there (bench/run linux-boot). A KVM that delivers differently
     * says so by what the guest sees, never by running out of this bound, so a long one costs nothing.
     */
    static final long DELIVERY_BOUND_MILLIS = 15_000;

    /** KVM's default routing sends GSI 20 to IOAPIC pin 20 alone (GSIs below 16 also reach the PIC). */
    private static final int LEVEL_PIN = 20;

    private static final int LEVEL_VECTOR = 0x30;
    private static final int MSI_VECTOR = 0x40;
    /** The MSI address of LAPIC ID 0 (vCPU 0), physical destination mode; the data is the vector (fixed, edge). */
    private static final long MSI_ADDRESS = 0xFEE00000L;
    /** The spurious vector written with the LAPIC's enable bit. */
    private static final int SPURIOUS_VECTOR = 0xFF;

    /** Real-mode guest layout in its one page at guest-physical 0: IVT at 0, code above it. */
    private static final int RAM_SIZE = 4096;

    private static final int IDLE_LOOP = 0x500;
    private static final int LEVEL_HANDLER = 0x510;
    private static final int MSI_HANDLER = 0x520;
    private static final int STACK_TOP = 0xFF0;
    /**
     * Each vector's handler writes its own port, so that the probe reads a vector's in-service bit only
     * where that vector, not another one delivered instead, reached its handler.
     */
    private static final int LEVEL_HANDLER_PORT = 0x10;

    private static final int MSI_HANDLER_PORT = 0x11;
    /** sti; hlt; jmp back to the hlt. */
    private static final byte[] IDLE_CODE = {(byte) 0xFB, (byte) 0xF4, (byte) 0xEB, (byte) 0xFD};
    /** Where Machine puts them: KVM documents both as needed on Intel, for real mode without unrestricted guest. */
    static final long TSS_ADDRESS = 0xFFFBD000L;

    static final long IDENTITY_MAP_ADDRESS = 0xFFFBC000L;

    private static final List<Cap> NEEDED =
            List.of(Cap.IRQCHIP, Cap.IRQFD, Cap.IRQFD_RESAMPLE, Cap.SIGNAL_MSI, Cap.SET_TSS_ADDR);

    /** How a verdict is kept for later processes; a failed probe's never is. */
    static final ProbeVerdictFile.Probe<IrqchipSemantics> KEPT = new ProbeVerdictFile.Probe<>(
            "irqchip",
            2,
            semantics -> semantics.verdict() == IrqchipSemantics.Verdict.PROBE_FAILED
                    ? Optional.empty()
                    : Optional.of(new ProbeVerdictFile.Kept(
                            semantics.verdict().name(), semantics.evidence(), semantics.elapsed())),
            kept -> Arrays.stream(IrqchipSemantics.Verdict.values())
                    .filter(verdict -> verdict != IrqchipSemantics.Verdict.PROBE_FAILED
                            && verdict.name().equals(kept.verdict()))
                    .findFirst()
                    .map(verdict -> new IrqchipSemantics(verdict, kept.evidence(), kept.elapsed())));

    private static IrqchipSemantics host;

    private IrqchipProbe() {}

    /**
     * This host's answer: at the first call, the verdict an earlier process probed on this boot of this
     * host's KVM if one was kept ({@link ProbeVerdictFile}), else a probe now, which is kept; then the
     * same result for the life of the process.
     */
    public static synchronized IrqchipSemantics host() {
        if (host == null) {
            host = ProbeVerdictFile.keptOrProbedOnThisHost(KEPT, IrqchipProbe::run);
        }
        return host;
    }

    /** Probes now, whatever was kept, and keeps the answer for this process and later ones ({@code jvfio host}). */
    public static synchronized IrqchipSemantics probeAgain() {
        host = ProbeVerdictFile.probedAgainOnThisHost(KEPT, IrqchipProbe::run);
        return host;
    }

    /** Probes /dev/kvm now, without the cache. */
    public static IrqchipSemantics run() {
        return run(Kvm.DEVICE, Duration.ofMillis(DELIVERY_BOUND_MILLIS));
    }

    /** Probes the KVM device at {@code device}, allowing each interrupt {@code deliveryBound} to arrive. */
    static IrqchipSemantics run(Path device, Duration deliveryBound) {
        long start = System.nanoTime();
        IrqchipSemantics.Verdict verdict;
        String evidence;
        try (Kvm kvm = Kvm.open(device)) {
            Observation observed = observe(kvm, deliveryBound);
            verdict = observed.documented() ? IrqchipSemantics.Verdict.EXACT : IrqchipSemantics.Verdict.EOI_AT_DELIVERY;
            evidence = observed.evidence();
        } catch (ProbeFailedException | KvmUnavailableException | ErrnoException e) {
            verdict = IrqchipSemantics.Verdict.PROBE_FAILED;
            evidence = e.getMessage();
        }
        return new IrqchipSemantics(verdict, evidence, Duration.ofNanos(System.nanoTime() - start));
    }

    /** What the probe read at each handler's first instruction. */
    private record Observation(boolean levelInService, boolean remoteIrr, boolean resampled, boolean msiInService) {
        boolean documented() {
            return levelInService && remoteIrr && !resampled && msiInService;
        }

        String evidence() {
            return "level pin " + LEVEL_PIN + " (vector 0x" + Integer.toHexString(LEVEL_VECTOR)
                    + ", irqfd + resamplefd) at its handler's first instruction: LAPIC ISR " + bit(levelInService)
                    + " (documented 1), IOAPIC remote IRR " + bit(remoteIrr) + " (documented 1), resamplefd readable "
                    + bit(resampled) + " (documented 0); MSI (vector 0x" + Integer.toHexString(MSI_VECTOR)
                    + "): LAPIC ISR " + bit(msiInService) + " (documented 1)";
        }

        private static int bit(boolean value) {
            return value ? 1 : 0;
        }
    }

    private static Observation observe(Kvm kvm, Duration deliveryBound) throws ErrnoException, ProbeFailedException {
        for (Cap capability : NEEDED) {
            if (!kvm.hasCapability(capability)) {
                throw new ProbeFailedException("KVM lacks " + capability.kernelName());
            }
        }
        // Closed in reverse: the VM (and its vCPU and memory slot) before the eventfds and the RAM behind the slot.
        try (Mapping ram = Mapping.anonymous(RAM_SIZE, "irqchip probe RAM");
                EventFd trigger = EventFd.create();
                EventFd resample = EventFd.create(true);
                Vm vm = kvm.createVm()) {
            Vcpu vcpu = createGuest(vm, ram);
            try {
                vm.setIoapicRedirectionEntry(LEVEL_PIN, LEVEL_VECTOR | Vm.IOAPIC_LEVEL_TRIGGERED);
                vm.registerIrqfd(trigger, LEVEL_PIN, resample);
                trigger.signal();
                awaitHandler(vcpu, LEVEL_HANDLER_PORT, deliveryBound, "the level interrupt");
                boolean levelInService = vcpu.lapicState().inService(LEVEL_VECTOR);
                boolean remoteIrr = vm.ioapicRemoteIrr(LEVEL_PIN);
                boolean resampled = resample.drain() > 0;

                // Else KVM, where it emulated the handler's port write, completes it at the next run with the
                // RIP it decoded, over the idle loop's: the guest would halt with interrupts off, no MSI taken.
                if (!vcpu.completeLastExit()) {
                    throw new ProbeFailedException(
                            "KVM_RUN with immediate_exit did not just complete the handler's" + " port write");
                }
                vcpu.setRegs(idleLoopRegs());
                if (!vm.signalMsi(MSI_ADDRESS, MSI_VECTOR)) {
                    throw new ProbeFailedException("KVM_SIGNAL_MSI: the guest's LAPIC did not accept vector 0x"
                            + Integer.toHexString(MSI_VECTOR));
                }
                awaitHandler(vcpu, MSI_HANDLER_PORT, deliveryBound, "the MSI");
                boolean msiInService = vcpu.lapicState().inService(MSI_VECTOR);
                return new Observation(levelInService, remoteIrr, resampled, msiInService);
            } finally {
                vcpu.releaseThread();
            }
        }
    }

    /** The VM's irqchip, RAM and one vCPU in real mode at the idle loop with its LAPIC enabled. */
    private static Vcpu createGuest(Vm vm, Mapping ram) throws ErrnoException {
        byte[] image = guestImage();
        ram.copyFrom(image, 0, 0, image.length);
        // The slot before the irqchip: under kvm_pvm a memory slot added after KVM_CREATE_IRQCHIP took ~7 ms
        // instead of ~0.1 ms, most of the probe's time.
        vm.addMemorySlot(0, 0, ram);
        vm.setTssAddress(TSS_ADDRESS);
        vm.setIdentityMapAddress(IDENTITY_MAP_ADDRESS);
        vm.createIrqchip();
        Vcpu vcpu = vm.createVcpu(0);
        vcpu.setSregs(withCodeSegmentAtZero(vcpu.sregs()));
        vcpu.setRegs(idleLoopRegs());
        LapicState lapic = vcpu.lapicState();
        vcpu.setLapicState(lapic.withRegister(LapicState.SVR, LapicState.SVR_APIC_ENABLED | SPURIOUS_VECTOR)
                .withRegister(LapicState.TPR, 0));
        return vcpu;
    }

    /** The guest's page: the IVT sending each vector to its handler, the idle loop, the handlers. */
    static byte[] guestImage() {
        ByteBuffer image = ByteBuffer.allocate(RAM_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        image.put(IDLE_LOOP, IDLE_CODE);
        handler(image, LEVEL_VECTOR, LEVEL_HANDLER, LEVEL_HANDLER_PORT);
        handler(image, MSI_VECTOR, MSI_HANDLER, MSI_HANDLER_PORT);
        return image.array();
    }

    /** out %al, $port (the first instruction, where the probe looks); cli; hlt; jmp back to the hlt. */
    private static void handler(ByteBuffer image, int vector, int at, int port) {
        image.put(at, new byte[] {(byte) 0xE6, (byte) port, (byte) 0xFA, (byte) 0xF4, (byte) 0xEB, (byte) 0xFD});
        image.putShort(vector * 4, (short) at);
        image.putShort(vector * 4 + 2, (short) 0);
    }

    private static Regs idleLoopRegs() {
        return Regs.initial().withRip(IDLE_LOOP).withRsp(STACK_TOP);
    }

    /** The reset state's CS is F000 with base 0xFFFF0000 (the BIOS); the probe's code lives in segment 0. */
    static Sregs withCodeSegmentAtZero(Sregs s) {
        return s.withCsAndDs(s.cs().withBaseAndSelector(0, 0), s.ds());
    }

    private static void awaitHandler(Vcpu vcpu, int port, Duration bound, String what)
            throws ErrnoException, ProbeFailedException {
        if (runUntilPortWrite(vcpu, port, bound).isEmpty()) {
            throw new ProbeFailedException(what + " did not reach its handler within " + bound.toMillis() + " ms");
        }
    }

    /**
     * Runs {@code vcpu} on this thread until the guest writes I/O port {@code port} (that write is returned)
     * or {@code bound} has passed (empty: a watchdog kicked the vCPU out of KVM_RUN). Any other exit fails.
     * Package-visible for the tests' own guests.
     */
    static Optional<VcpuExit.IoOut> runUntilPortWrite(Vcpu vcpu, int port, Duration bound)
            throws ErrnoException, ProbeFailedException {
        return runUntil(
                        vcpu,
                        exit -> exit instanceof VcpuExit.IoOut out && out.port() == port,
                        "writing port 0x" + Integer.toHexString(port),
                        bound)
                .map(VcpuExit.IoOut.class::cast);
    }

    /**
     * Runs {@code vcpu} on this thread until an exit that {@code awaited} accepts (returned) or {@code bound}
     * has passed (empty: a watchdog kicked the vCPU out of KVM_RUN). Any other exit fails, for the probes'
     * guests do nothing else; {@code awaitedExit} names the one awaited for that message.
     */
    static Optional<VcpuExit> runUntil(Vcpu vcpu, Predicate<VcpuExit> awaited, String awaitedExit, Duration bound)
            throws ErrnoException, ProbeFailedException {
        long deadline = System.nanoTime() + bound.toNanos();
        try (Watchdog watchdog = new Watchdog(vcpu, deadline)) {
            while (System.nanoTime() - deadline < 0) {
                VcpuExit exit = vcpu.run();
                if (awaited.test(exit)) {
                    return Optional.of(exit);
                }
                // Interrupted is the watchdog's kick (the loop sees the deadline passed) or a kick left
                // over from an earlier run that landed after the exit awaited: then simply run on.
                if (!(exit instanceof VcpuExit.Interrupted)) {
                    throw new ProbeFailedException(
                            "the probe's guest stopped with " + exit + " instead of " + awaitedExit);
                }
            }
            return Optional.empty();
        }
    }

    /** Kicks a vCPU out of KVM_RUN once the deadline passes, unless closed first; close waits for its thread. */
    private static final class Watchdog implements AutoCloseable {
        private final CountDownLatch closed = new CountDownLatch(1);
        private final Thread thread;

        Watchdog(Vcpu vcpu, long deadline) {
            thread = Thread.ofPlatform()
                    .daemon()
                    .name("jvfio-irqchip-probe-watchdog")
                    .start(() -> {
                        try {
                            if (!closed.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                                vcpu.kick();
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
        }

        @Override
        public void close() {
            closed.countDown();
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The probe could not finish; the message says why, for the verdict's evidence. */
    static final class ProbeFailedException extends Exception {
        ProbeFailedException(String message) {
            super(message);
        }
    }
}
