package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.System.Logger.Level;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ConsoleLoggerFinderTest {
    private static final String NL = System.lineSeparator();

    @Test
    void lineCarriesTheUtcTimeOfDayToTheMillisecondAndTheLevelsName() {
        long at = Instant.parse("2026-12-03T16:25:01.901Z").toEpochMilli();

        assertThat(ConsoleLoggerFinder.line(at, Level.WARNING, "region 0 trapped", null))
                .isEqualTo("[16:25:01.901Z] WARNING: region 0 trapped" + NL);
    }

    @Test
    void everyFieldIsZeroPaddedToItsWidth() {
        long at = Instant.parse("2026-12-03T00:04:05.007Z").toEpochMilli();

        assertThat(ConsoleLoggerFinder.line(at, Level.INFO, "m", null)).isEqualTo("[00:04:05.007Z] INFO: m" + NL);
        assertThat(ConsoleLoggerFinder.line(at + 40, Level.INFO, "m", null)).startsWith("[00:04:05.047Z]");
    }

    @Test
    void aThrowableFollowsTheLineWithItsTrace() {
        String line = ConsoleLoggerFinder.line(0, Level.ERROR, "event loop stops", new IllegalStateException("boom"));

        assertThat(line)
                .startsWith(
                        "[00:00:00.000Z] ERROR: event loop stops" + NL + "java.lang.IllegalStateException: boom" + NL);
        assertThat(line).contains("\tat ");
    }

    @Test
    void parametersArePlacedAsMessageFormatPlacesThem() {
        assertThat(ConsoleLoggerFinder.message("{0}: a client connected", "virtio-rng"))
                .isEqualTo("virtio-rng: a client connected");
        assertThat(ConsoleLoggerFinder.message("no parameters: {0}")).isEqualTo("no parameters: {0}");
    }

    @Test
    void loggersTakeInfoAndAbove() {
        System.Logger logger =
                new ConsoleLoggerFinder().getLogger("io.jvfio.test", getClass().getModule());

        assertThat(logger.getName()).isEqualTo("io.jvfio.test");
        assertThat(logger.isLoggable(Level.INFO)).isTrue();
        assertThat(logger.isLoggable(Level.ERROR)).isTrue();
        assertThat(logger.isLoggable(Level.DEBUG)).isFalse();
        assertThat(logger.isLoggable(Level.OFF)).isFalse();
    }
}
