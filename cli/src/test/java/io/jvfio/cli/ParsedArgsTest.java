package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.devices.OptionNumbers;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command-line parser: the option forms it takes and the one-line usage errors it gives. */
class ParsedArgsTest {
    private static final CommandSpec SPEC = CommandSpec.of(
                    "t",
                    "",
                    "",
                    OptionSpec.value("PATH", "", "--socket").mustBeGiven(),
                    OptionSpec.value("N", "", "-n", "--count"),
                    OptionSpec.value("SPEC", "", "--device").mayRepeat(),
                    OptionSpec.flag("", "--quiet"))
            .withParameters(new CommandSpec.Parameter("MODEL", ""));

    @Test
    void valuesComeSeparatedOrAfterAnEqualsSignAndByAnyOfTheirNames() {
        ParsedArgs args = ParsedArgs.parse(SPEC, List.of("m", "--socket=/a=b", "-n", "3", "--quiet"));

        assertThat(args.required("--socket")).isEqualTo("/a=b");
        assertThat(args.value("--count")).contains("3");
        assertThat(args.has("--quiet")).isTrue();
        assertThat(args.parameter(0)).isEqualTo("m");
    }

    @Test
    void repeatableOptionKeepsEveryValueInOrder() {
        ParsedArgs args = ParsedArgs.parse(SPEC, List.of("--device", "a", "m", "--socket", "s", "--device", "b"));

        assertThat(args.values("--device", String::toUpperCase)).containsExactly("A", "B");
    }

    @Test
    void doubleDashEndsTheOptions() {
        ParsedArgs args = ParsedArgs.parse(SPEC, List.of("--socket", "s", "--", "--quiet"));

        assertThat(args.parameter(0)).isEqualTo("--quiet");
        assertThat(args.has("--quiet")).isFalse();
    }

    @Test
    void missingRequiredOptionNamesIt() {
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("m")))
                .isInstanceOf(UsageException.class)
                .hasMessage("Missing required option: '--socket PATH'");
    }

    @Test
    void helpNeedsNoRequiredOption() {
        assertThat(ParsedArgs.parse(SPEC, List.of("--help")).has("--help")).isTrue();
    }

    @Test
    void missingParameterNamesIt() {
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("--socket", "s")))
                .isInstanceOf(UsageException.class)
                .hasMessage("Missing required parameter: 'MODEL'");
    }

    @Test
    void unknownOptionAndExtraArgumentAreUsageErrors() {
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("--sockt", "s")))
                .isInstanceOf(UsageException.class)
                .hasMessage("Unknown option: '--sockt'");
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("m", "extra", "--socket", "s")))
                .isInstanceOf(UsageException.class)
                .hasMessage("Unmatched argument: 'extra'");
    }

    @Test
    void optionGivenTwiceIsAUsageErrorUnlessRepeatable() {
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("m", "--socket", "a", "--socket", "b")))
                .isInstanceOf(UsageException.class)
                .hasMessage("option '--socket' should be specified only once");
    }

    @Test
    void optionWithoutItsValueIsAUsageError() {
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("m", "--socket")))
                .isInstanceOf(UsageException.class)
                .hasMessage("Missing required parameter for option '--socket' (PATH)");
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("m", "--socket", "s", "--quiet=yes")))
                .isInstanceOf(UsageException.class)
                .hasMessage("option '--quiet' takes no value");
    }

    @Test
    void anotherOptionWhereAValueBelongsIsAUsageErrorNamingTheOptionMissingIt() {
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("m", "--socket", "--quiet")))
                .isInstanceOf(UsageException.class)
                .hasMessage("Expected parameter for option '--socket' but found '--quiet'");
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("m", "--socket", "-n", "3")))
                .isInstanceOf(UsageException.class)
                .hasMessage("Expected parameter for option '--socket' but found '-n'");
        assertThatThrownBy(() -> ParsedArgs.parse(SPEC, List.of("m", "--socket", "--device=x")))
                .isInstanceOf(UsageException.class)
                .hasMessage("Expected parameter for option '--socket' but found '--device=x'");
    }

    @Test
    void aValueThatOnlyLooksLikeAnOptionIsTaken() {
        ParsedArgs args = ParsedArgs.parse(SPEC, List.of("m", "--socket", "s", "-n", "-1", "--device", "--x"));

        assertThat(args.value("--count")).contains("-1");
        assertThat(args.value("--device")).contains("--x");
    }

    @Test
    void converterErrorBecomesAUsageErrorNamingTheOption() {
        ParsedArgs args = ParsedArgs.parse(SPEC, List.of("m", "--socket", "s", "-n", "x"));

        assertThatThrownBy(() -> args.value("--count", OptionNumbers::parseLong))
                .isInstanceOf(UsageException.class)
                .hasMessage("Invalid value for option '--count': 'x' is not a number (decimal or 0x hex)");
    }

    @Test
    void helpShowsEveryOptionButHiddenOnesAndKeepsLinesShort() {
        String help = HostDriverCommand.BIND.help("jvfio bind");

        assertThat(help)
                .startsWith("Usage: jvfio bind [--bus BUS]")
                .contains("NAME", "--bus BUS", "-h, --help", "--trace FILE")
                .doesNotContain("sysfs-root");
        assertThat(help.lines()).allMatch(line -> line.length() <= 80);
    }
}
