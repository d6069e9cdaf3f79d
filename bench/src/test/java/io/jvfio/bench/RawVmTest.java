package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RawVmTest {
    @Test
    void closeAllRunsEveryCloseAfterOneThrowsAndRethrowsTheFirstWithTheLaterSuppressed() {
        List<String> closed = new ArrayList<>();
        IllegalStateException first = new IllegalStateException("vcpu");
        IllegalStateException second = new IllegalStateException("ram");

        assertThatThrownBy(() -> RawVm.closeAll(
                        () -> closed.add("run"),
                        () -> {
                            closed.add("vcpu");
                            throw first;
                        },
                        () -> closed.add("vm"),
                        () -> {
                            closed.add("ram");
                            throw second;
                        },
                        () -> closed.add("kvm")))
                .isSameAs(first);

        assertThat(closed).containsExactly("run", "vcpu", "vm", "ram", "kvm");
        assertThat(first.getSuppressed()).containsExactly(second);
    }

    @Test
    void closeAllWithoutFailureThrowsNothing() {
        List<String> closed = new ArrayList<>();

        RawVm.closeAll(() -> closed.add("a"), () -> closed.add("b"));

        assertThat(closed).containsExactly("a", "b");
    }
}
