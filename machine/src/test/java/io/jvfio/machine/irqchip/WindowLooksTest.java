package io.jvfio.machine.irqchip;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When a wait for the interrupt window is looked at, run by run. */
class WindowLooksTest {
    private final WindowLooks looks = new WindowLooks(true);

    @Test
    void noVectorWaitingMeansNoLooks() {
        assertThat(looks.beforeRun(false)).isZero();
        looks.halted();
        assertThat(looks.beforeRun(false)).isZero();
    }

    @Test
    void aWaitIsLookedAtFromItsStartThenEveryLookPeriodWhileTheWindowStaysClosed() {
        assertThat(looks.beforeRun(true)).isEqualTo(WindowLooks.FIRST_LOOK_NANOS);
        assertThat(looks.period()).isEqualTo(WindowLooks.LOOK_NANOS);
        assertThat(looks.beforeRun(true)).isEqualTo(WindowLooks.LOOK_NANOS);
        assertThat(looks.beforeRun(true)).isEqualTo(WindowLooks.LOOK_NANOS);
        assertThat(looks.period()).isEqualTo(WindowLooks.LOOK_NANOS);
        assertThat(looks.beforeRun(false)).isZero();
        assertThat(looks.beforeRun(true)).as("a new wait").isEqualTo(WindowLooks.FIRST_LOOK_NANOS);
    }

    @Test
    void theLookPeriodDoublesAfterEverySecondLaterRunOfAWaitUpToItsCapAndStartsAgainWithTheNextWait() {
        looks.beforeRun(true);
        List<Long> periods = new ArrayList<>();
        for (int run = 0; run < 14; run++) {
            long delay = looks.beforeRun(true);
            assertThat(looks.period()).isEqualTo(delay);
            periods.add(delay / WindowLooks.LOOK_NANOS);
        }
        assertThat(periods).containsExactly(1L, 1L, 2L, 2L, 4L, 4L, 8L, 8L, 16L, 16L, 32L, 32L, 32L, 32L);

        looks.beforeRun(false);
        assertThat(looks.beforeRun(true)).isEqualTo(WindowLooks.FIRST_LOOK_NANOS);
        assertThat(looks.beforeRun(true)).isEqualTo(WindowLooks.LOOK_NANOS);
    }

    @Test
    void afterAWaitThatEndedAtAHltTheNextIsLookedAtOnlyOnceTheGuestExitsAgainWithTheWindowClosed() {
        looks.beforeRun(true);
        looks.halted();
        looks.beforeRun(false);

        assertThat(looks.beforeRun(true)).isZero();
        assertThat(looks.beforeRun(true)).isEqualTo(WindowLooks.LOOK_NANOS);
        assertThat(looks.beforeRun(false)).isZero();
        assertThat(looks.beforeRun(true))
                .as("that wait ended without a hlt: the next is looked at from its start")
                .isEqualTo(WindowLooks.FIRST_LOOK_NANOS);
        assertThat(looks.lookedRuns()).as("the runs given looks").isEqualTo(3);
    }

    @Test
    void aHltWhileNoVectorWaitsSaysNothingAboutTheNextWait() {
        looks.halted();
        assertThat(looks.beforeRun(true)).isEqualTo(WindowLooks.FIRST_LOOK_NANOS);
    }

    @Test
    void disabledLooksNeverEndARun() {
        WindowLooks off = new WindowLooks(false);
        for (int run = 0; run < 4; run++) {
            assertThat(off.beforeRun(true)).isZero();
        }
        off.halted();
        assertThat(off.beforeRun(false)).isZero();
        assertThat(off.beforeRun(true)).isZero();
        assertThat(off.lookedRuns()).isZero();
    }
}
