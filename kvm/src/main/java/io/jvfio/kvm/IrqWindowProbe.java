package io.jvfio.kvm;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.vcpu.Regs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Whether this host's KVM ends KVM_RUN with an interrupt-window exit as soon as the guest turns interrupts
 * on, as KVM documents, or only later: a software KVM that emulates the guest ({@code kvm_pvm}) takes the
 * request between batches of instructions, about 0.6 ms apart where measured. jvfio's own irqchip needs
 * the answer: where the exit comes late it ends KVM_RUN every so often to look at the guest's interrupt
 * flag itself, which where the exit is prompt only costs a timer and a signal per run (2.5 against 1.4 ms
 * per interrupt of irq-eventfd on jvfio's irqchip in the nested guest).
 *
 * <p>The probe counts instead of timing: a real-mode guest without an in-kernel irqchip starts with
 * interrupts off, runs {@code sti} and then increments a word in its RAM in a loop, with the window
 * requested from the first entry. A prompt exit comes after the instruction that follows {@code sti}
 * (its interrupt shadow), so the word reads 0 or 1; a late one lets the loop run hundreds of times.
 * Three runs, all of which must be prompt: a late KVM's batch may by chance end right after the {@code
 * sti}. Decided by behaviour, never by the module's name.
 */
public final class IrqWindowProbe {
    /** At most this many increments still count as prompt: two for the shadow, the rest for slack. */
    static final int PROMPT_INCREMENTS = 8;

    private static final int TRIALS = 3;

    /** A KVM that never takes the window is as late as can be; this bound ends the wait for it. */
    private static final Duration BOUND = Duration.ofSeconds(5);

    private static final int RAM_SIZE = 4096;
    private static final int CODE = 0x500;
    private static final int COUNTER = 0x600;
    private static final int STACK_TOP = 0xFF0;
    /**
     * sti; loop: inc dword [0x600]; jmp loop. A doubleword, not the real-mode word: a KVM whose exit comes
     * milliseconds late on hardware runs the loop millions of times, and a word wrapping to a count under
     * {@link #PROMPT_INCREMENTS} would read as prompt.
     */
    private static final byte[] CODE_BYTES = {(byte) 0xFB, 0x66, (byte) 0xFF, 0x06, 0x00, 0x06, (byte) 0xEB, (byte) 0xF9
    };

    /**
     * What the probe saw.
     *
     * @param prompt   the exit came with the guest's first chance to take an interrupt; false also where the
     *                 probe could not run, so that jvfio keeps looking for itself
     * @param evidence one line: how many times the guest's loop ran before each exit, or why the probe failed
     * @param elapsed  how long the probe took
     */
    public record Timing(boolean prompt, String evidence, Duration elapsed) {
        private static final String FAILED = "probe failed: ";

        /** The probe could not run: {@link #prompt} is false for safety, not because the exit came late. */
        public boolean probeFailed() {
            return evidence.startsWith(FAILED);
        }

        /** One line: {@code interrupt-window exits prompt|late: EVIDENCE [N.NN ms]}. */
        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "interrupt-window exits %s: %s [%.2f ms]",
                    prompt ? "prompt" : "late",
                    evidence,
                    elapsed.toNanos() / 1e6);
        }
    }

    private static final String PROMPT = "PROMPT";
    private static final String LATE = "LATE";

    /** How an answer is kept for later processes; a failed probe's never is. */
    static final ProbeVerdictFile.Probe<Timing> KEPT = new ProbeVerdictFile.Probe<>(
            "irq-window",
            2,
            timing -> timing.probeFailed()
                    ? Optional.empty()
                    : Optional.of(new ProbeVerdictFile.Kept(
                            timing.prompt() ? PROMPT : LATE, timing.evidence(), timing.elapsed())),
            kept -> switch (kept.verdict()) {
                case PROMPT -> Optional.of(new Timing(true, kept.evidence(), kept.elapsed()));
                case LATE -> Optional.of(new Timing(false, kept.evidence(), kept.elapsed()));
                default -> Optional.empty();
            });

    private static Timing host;

    private IrqWindowProbe() {}

    /**
     * The answer for /dev/kvm: at the first call, the one an earlier process probed on this boot of this
     * host's KVM if one was kept ({@link ProbeVerdictFile}), else a probe now, which is kept; then the same
     * for the life of the process.
     */
    public static synchronized Timing host() {
        if (host == null) {
            host = ProbeVerdictFile.keptOrProbedOnThisHost(KEPT, IrqWindowProbe::run);
        }
        return host;
    }

    /** Probes now, whatever was kept, and keeps the answer for this process and later ones ({@code jvfio host}). */
    public static synchronized Timing probeAgain() {
        host = ProbeVerdictFile.probedAgainOnThisHost(KEPT, IrqWindowProbe::run);
        return host;
    }

    /** Probes /dev/kvm now, without the per-process answer. */
    public static Timing run() {
        return run(Kvm.DEVICE);
    }

    /** Probes the KVM device at {@code device} now. */
    static Timing run(Path device) {
        long start = System.nanoTime();
        boolean prompt;
        String evidence;
        try (Kvm kvm = Kvm.open(device);
                Mapping ram = Mapping.anonymous(RAM_SIZE, "interrupt window probe RAM");
                Vm vm = kvm.createVm()) {
            List<Long> increments = incrementsBeforeTheWindowExits(vm, ram);
            prompt = increments.stream().allMatch(n -> n >= 0 && n <= PROMPT_INCREMENTS);
            evidence = increments.contains(-1L)
                    ? "no window exit within " + BOUND.toSeconds() + " s of the guest's sti"
                    : "the guest's loop ran "
                            + increments.stream().map(String::valueOf).collect(Collectors.joining(", "))
                            + " times after its sti before KVM_RUN ended (prompt: at most " + PROMPT_INCREMENTS + ")";
        } catch (KvmUnavailableException | ErrnoException | IrqchipProbe.ProbeFailedException e) {
            prompt = false;
            evidence = Timing.FAILED + e.getMessage();
        }
        return new Timing(prompt, evidence, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * The loop's count when KVM_RUN ended with the window open, one a trial from the guest's first
     * instruction; -1 for a trial whose exit did not come within the bound, which ends the trials.
     */
    private static List<Long> incrementsBeforeTheWindowExits(Vm vm, Mapping ram)
            throws ErrnoException, IrqchipProbe.ProbeFailedException {
        ram.copyFrom(CODE_BYTES, 0, CODE, CODE_BYTES.length);
        vm.addMemorySlot(0, 0, ram);
        vm.setTssAddress(IrqchipProbe.TSS_ADDRESS);
        vm.setIdentityMapAddress(IrqchipProbe.IDENTITY_MAP_ADDRESS);
        Vcpu vcpu = vm.createVcpu(0);
        try {
            vcpu.setSregs(IrqchipProbe.withCodeSegmentAtZero(vcpu.sregs()));
            List<Long> increments = new ArrayList<>();
            for (int trial = 0; trial < TRIALS && !increments.contains(-1L); trial++) {
                ram.putInt(COUNTER, 0);
                vcpu.setRegs(Regs.initial().withRip(CODE).withRsp(STACK_TOP));
                vcpu.requestInterruptWindow(true);
                increments.add(IrqchipProbe.runUntil(
                                vcpu, VcpuExit.IrqWindowOpen.class::isInstance, "an interrupt-window exit", BOUND)
                        .map(exit -> Integer.toUnsignedLong(ram.getInt(COUNTER)))
                        .orElse(-1L));
            }
            return increments;
        } finally {
            vcpu.releaseThread();
        }
    }
}
