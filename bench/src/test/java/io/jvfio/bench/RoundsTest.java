package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RoundsTest {
    @Test
    void medianOfAnOddCountIsTheMiddleOfTheSortedFigures() {
        assertThat(Rounds.of(9, 1, 5).median()).isEqualTo(5);
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertThat(Rounds.of(10, 1, 4, 2).median()).isEqualTo(3);
    }

    @Test
    void medianOfOneRoundIsThatRound() {
        assertThat(Rounds.of(7.5).median()).isEqualTo(7.5);
    }

    @Test
    void minAndMaxAreTheExtremesWhateverTheOrderAdded() {
        Rounds rounds = Rounds.of(3, 8, 1, 5);
        assertThat(rounds.min()).isEqualTo(1);
        assertThat(rounds.max()).isEqualTo(8);
        assertThat(rounds.count()).isEqualTo(4);
    }

    @Test
    void noRoundsHasNoMedianMinOrMax() {
        Rounds rounds = new Rounds();
        assertThatThrownBy(rounds::median).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(rounds::min).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(rounds::max).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aNanZeroNegativeOrInfiniteFigureIsRefusedAndLeavesTheMedianAlone() {
        Rounds rounds = Rounds.of(1, 2, 3);
        for (double broken : new double[] {Double.NaN, 0, -4, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> rounds.add(broken)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(rounds.median()).isEqualTo(2);
        assertThat(rounds.count()).isEqualTo(3);
    }
}
