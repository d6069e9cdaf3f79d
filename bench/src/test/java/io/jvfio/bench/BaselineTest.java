package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.testing.Tiers;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class BaselineTest {
    @Test
    void mmioExitsLineGivesItsFigure() throws IOException {
        assertThat(Baseline.figures(
                        "mmio_exit", 0, "mmio_exit: 20000 exits, 1234000 ns, 61.7 ns per exit (3 other exits)\n"))
                .containsExactly(61.7);
    }

    @Test
    void pingpongsLineGivesTheRoundTripThenTheCpu() throws IOException {
        assertThat(Baseline.figures(
                        "pingpong",
                        0,
                        "pingpong: 50000 round trips, 8400.5 ns per round trip, cpu 7000.0 ns per round trip\n"))
                .containsExactly(8400.5, 7000.0);
    }

    @Test
    void aNegativeCpuFigureIsNanInItsPlaceNotItsDigits() throws IOException {
        double[] figures = Baseline.figures(
                "pingpong", 0, "pingpong: 5 round trips, 8400.5 ns per round trip, cpu -12.5 ns per round trip\n");
        assertThat(figures).hasSize(2);
        assertThat(figures[0]).isEqualTo(8400.5);
        assertThat(figures[1]).isNaN();
    }

    @Test
    void aResultThatIsPartOfAWordIsRefused() {
        for (String garbage :
                new String[] {"-5 ns per exit", "1e3 ns per exit", "12.5.3 ns per exit", "x7 ns per exit"}) {
            assertThatThrownBy(() -> Baseline.figures("c", 0, garbage))
                    .as(garbage)
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(garbage);
        }
    }

    @Test
    void aZeroResultIsRefused() {
        assertThatThrownBy(() -> Baseline.figures("c", 0, "0.0 ns per exit")).isInstanceOf(IOException.class);
    }

    @Test
    void outputWithoutAFigureIsRefusedWithTheOutput() {
        assertThatThrownBy(() -> Baseline.figures("mmio_exit", 0, "mmio_exit: KVM_CREATE_VM: Permission denied\n"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("exit 0")
                .hasMessageContaining("Permission denied");
    }

    @Test
    void aFailedExitIsRefusedEvenWithAFigure() {
        assertThatThrownBy(() -> Baseline.figures("irq_loop", 1, "irq_loop: 10 interrupts, 1 ns, 9.0 ns per interrupt"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("exit 1");
    }

    @Test
    @Tag(Tiers.PROCESS)
    void runReadsTheFigureOfARealProcess() throws Exception {
        assertThat(Baseline.run(List.of("sh", "-c", "echo 'x: 3 exits, 42.5 ns per exit'")))
                .isEqualTo(42.5);
    }
}
