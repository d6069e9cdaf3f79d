package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.devices.OptionNumbers;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Numeric option values: the range each parse takes and the one-line error beyond it. */
class OptionNumbersTest {
    private static final CommandSpec SPEC =
            CommandSpec.of("t", "", "", OptionSpec.value("N", "", "--irqs"), OptionSpec.value("M", "", "--level-mask"));

    @Test
    void intTakesItsWholeRangeInDecimalOrHex() {
        assertThat(OptionNumbers.parseInt("2147483647")).isEqualTo(Integer.MAX_VALUE);
        assertThat(OptionNumbers.parseInt("-2147483648")).isEqualTo(Integer.MIN_VALUE);
        assertThat(OptionNumbers.parseInt("0x7FFFFFFF")).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void intOptionBeyondIntRangeIsRefusedNamingTheOptionAndValueRatherThanWrapped() {
        for (String value : List.of("4294967295", "0xFFFFFFFF", "0xFFFFFFFFFFFFFFFF", "2147483648", "-2147483649")) {
            ParsedArgs args = ParsedArgs.parse(SPEC, List.of("--irqs", value));

            assertThatThrownBy(() -> args.value("--irqs", OptionNumbers::parseInt))
                    .isInstanceOf(UsageException.class)
                    .hasMessage("Invalid value for option '--irqs': '" + value
                            + "' is outside the int range (-2147483648..2147483647)");
        }
    }

    @Test
    void unsignedIntTakesAll32BitsAndNothingBeyond() {
        assertThat(OptionNumbers.parseUnsignedInt("0xFFFFFFFF")).isEqualTo(-1);
        assertThat(OptionNumbers.parseUnsignedInt("4294967295")).isEqualTo(-1);
        assertThat(OptionNumbers.parseUnsignedInt("0")).isZero();
        for (String value : List.of("0x100000000", "-1")) {
            ParsedArgs args = ParsedArgs.parse(SPEC, List.of("--level-mask", value));

            assertThatThrownBy(() -> args.value("--level-mask", OptionNumbers::parseUnsignedInt))
                    .isInstanceOf(UsageException.class)
                    .hasMessage("Invalid value for option '--level-mask': '" + value
                            + "' is outside 32 unsigned bits (0..0xffffffff)");
        }
    }
}
