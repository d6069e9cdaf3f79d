package io.jvfio.machine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.kvm.vcpu.Regs;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class VcpuStatesTest {
    @Test
    void describesTheVectorsOfEachWordOfIrrAndIsrAndTheTaskPriority() {
        // IRR: 0x30 (word 1, bit 16) and 0xfe (word 7, bit 30); ISR: 0x20 (word 1, bit 0); TPR 0x20
        Map<Integer, Integer> page = Map.of(0x80, 0x20, 0x110, 1, 0x210, 1 << 16, 0x270, 1 << 30);

        String state = VcpuStates.describe(
                Regs.initial().withRip(0x1234).withRflags(0x202), offset -> page.getOrDefault(offset, 0));

        assertThat(state)
                .isEqualTo("rip=0x1234 rflags=0x202 (interrupts on); LAPIC IRR {0x30, 0xfe} ISR {0x20} TPR 0x20");
        assertThat(VcpuStates.describe(Regs.initial().withRflags(0x2), offset -> 0))
                .contains("(interrupts off); LAPIC IRR {} ISR {} TPR 0x0");
    }

    @Test
    void aRequestIsTakenOnceAndAnsweredAndOneStillOpenIsShared() {
        VcpuStates states = new VcpuStates(2);
        assertThat(states.take(0)).as("nothing asked").isNull();

        CompletableFuture<String> first = states.request(1);
        assertThat(states.request(1)).as("still open: shared").isSameAs(first);
        assertThat(states.take(0)).as("another vCPU's request").isNull();

        CompletableFuture<String> taken = states.take(1);
        assertThat(taken).isSameAs(first);
        assertThat(states.take(1)).as("taken once").isNull();
        VcpuStates.answer(taken, () -> "here");
        assertThat(first).isCompletedWithValue("here");
        assertThat(states.request(1)).as("a new request after the answer").isNotSameAs(first);
    }

    @Test
    void aStateThatCannotBeReadIsAnsweredWithWhy() {
        CompletableFuture<String> request = new CompletableFuture<>();

        VcpuStates.answer(request, () -> {
            throw new ErrnoException("KVM_GET_LAPIC", Errno.ENXIO);
        });

        assertThat(request.join()).startsWith("unreadable: ").contains("KVM_GET_LAPIC");
    }
}
