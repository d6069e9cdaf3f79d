package io.jvfio.machine;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.kvm.vcpu.Regs;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntUnaryOperator;

/**
 * Requests for what a vCPU is doing in the guest, answered on its own thread at its next exit: KVM answers a
 * vCPU's ioctls only between its runs, and a kick makes the run end. What is read tells a guest waiting for
 * an interrupt its LAPIC holds back from one whose interrupt was lost: where it runs, whether it takes
 * interrupts, and its LAPIC's requested (IRR) and in-service (ISR) vectors.
 */
final class VcpuStates {
    private static final int LAPIC_TPR = 0x80;
    private static final int LAPIC_ISR = 0x100;
    private static final int LAPIC_IRR = 0x200;
    private static final long RFLAGS_IF = 1L << 9;

    /** How a vCPU's thread reads its state. */
    @FunctionalInterface
    interface Reader {
        String read() throws ErrnoException;
    }

    private final AtomicReferenceArray<CompletableFuture<String>> open;

    VcpuStates(int vcpus) {
        open = new AtomicReferenceArray<>(vcpus);
    }

    /** A request for vCPU {@code id}'s state; one still open is shared rather than queued behind. */
    CompletableFuture<String> request(int id) {
        CompletableFuture<String> fresh = new CompletableFuture<>();
        CompletableFuture<String> earlier = open.compareAndExchange(id, null, fresh);
        return earlier != null ? earlier : fresh;
    }

    /**
     * On vCPU {@code id}'s thread between runs: the open request, now this thread's to {@link #answer}, or
     * null (nearly always: one volatile read, on the path of every exit).
     */
    CompletableFuture<String> take(int id) {
        CompletableFuture<String> request = open.get(id);
        return request != null && open.compareAndSet(id, request, null) ? request : null;
    }

    static void answer(CompletableFuture<String> request, Reader reader) {
        try {
            request.complete(reader.read());
        } catch (ErrnoException e) {
            request.complete("unreadable: " + e.getMessage());
        }
    }

    /** {@code rip=0x... rflags=0x... (interrupts on|off); LAPIC IRR {...} ISR {...} TPR 0x..}. */
    static String describe(Regs regs, IntUnaryOperator lapicRegister) {
        return "rip=0x%x rflags=0x%x (interrupts %s); %s"
                .formatted(
                        regs.rip(),
                        regs.rflags(),
                        (regs.rflags() & RFLAGS_IF) != 0 ? "on" : "off",
                        describeLapic(lapicRegister));
    }

    /** {@code LAPIC IRR {0x30} ISR {} TPR 0x0}: the vectors requested and in service, from the register page. */
    static String describeLapic(IntUnaryOperator lapicRegister) {
        return "LAPIC IRR %s ISR %s TPR 0x%x"
                .formatted(
                        vectors(lapicRegister, LAPIC_IRR),
                        vectors(lapicRegister, LAPIC_ISR),
                        lapicRegister.applyAsInt(LAPIC_TPR) & 0xff);
    }

    /** The vectors set in a 256-bit register: eight 32-bit words at 16-byte strides from {@code base}. */
    private static String vectors(IntUnaryOperator lapicRegister, int base) {
        StringJoiner vectors = new StringJoiner(", ", "{", "}");
        for (int word = 0; word < 8; word++) {
            int bits = lapicRegister.applyAsInt(base + 0x10 * word);
            for (int bit = 0; bit < 32; bit++) {
                if ((bits >>> bit & 1) != 0) {
                    vectors.add("0x%02x".formatted(word * 32 + bit));
                }
            }
        }
        return vectors.toString();
    }
}
