package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RunCommandTest {
    @Test
    void secondsHaveTwoDecimalsRoundedToTheNearest() {
        assertThat(RunCommand.seconds(0)).isEqualTo("0.00");
        assertThat(RunCommand.seconds(4_999_999)).isEqualTo("0.00");
        assertThat(RunCommand.seconds(5_000_000)).isEqualTo("0.01");
        assertThat(RunCommand.seconds(20_000_000)).isEqualTo("0.02");
        assertThat(RunCommand.seconds(1_234_567_890)).isEqualTo("1.23");
        assertThat(RunCommand.seconds(61_999_000_000L)).isEqualTo("62.00");
    }
}
