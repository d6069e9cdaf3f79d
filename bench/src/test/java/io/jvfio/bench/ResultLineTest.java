package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The last line of each ratio benchmark: jvfio's median over the baseline's (not the other way round, not
 * the means), and a decimal point whatever the JVM's locale, as bench/README.md documents it.
 */
class ResultLineTest {
    private Locale saved;

    @BeforeEach
    void germanDefaultLocale() {
        saved = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY);
    }

    @AfterEach
    void restoreLocale() {
        Locale.setDefault(saved);
    }

    @Test
    void mmioExitIsJvfiosMedianOverCs() {
        // medians 60000 and 75000; the means (62000, 90000) would give 1.45
        assertThat(MmioExit.resultLine(Rounds.of(58_000, 60_000, 68_000), Rounds.of(75_000, 70_000, 125_000)))
                .isEqualTo("mmio-exit: ratio=1.25 (jvfio 75000 ns, C 60000 ns)");
    }

    @Test
    void vfioUserRttIsJvfiosMedianOverTheFloors() {
        assertThat(VfioUserRtt.resultLine(
                        Rounds.of(8_000, 8_400, 8_800, 9_000), Rounds.of(9_000, 9_200, 9_400, 20_000)))
                .isEqualTo("vfio-user-rtt: ratio=1.08 (jvfio 9.3 us, floor 8.6 us)");
    }

    @Test
    void irqLineNamesThePathTheIrqchipAndTheRunningGuestsRatio() {
        assertThat(IrqLoop.resultLine("irqfd", Rounds.of(40_000), Rounds.of(50_000), "on", 0.5))
                .isEqualTo("irq-irqfd: ratio=1.25 (jvfio 50.0 us on kernel-irqchip=on, C 40.0 us on the in-kernel"
                        + " irqchip; guest waiting running: 0.50)");
    }
}
