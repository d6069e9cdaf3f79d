package io.jvfio.machine.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** NameString encodings of ACPI 6.5 section 20.2.2. */
class AmlNamePathTest {
    @Test
    void shortSegmentIsPaddedWithUnderscores() {
        assertThat(NamePath.of("_SB").encode()).containsExactly('_', 'S', 'B', '_');
        assertThat(NamePath.of("_SB")).isEqualTo(NamePath.of("_SB_"));
    }

    @Test
    void rootedTwoSegmentPathUsesDualNamePrefix() {
        assertThat(NamePath.of("\\_SB.COM1").encode())
                .containsExactly('\\', 0x2E, '_', 'S', 'B', '_', 'C', 'O', 'M', '1');
    }

    @Test
    void threeSegmentsUseMultiNamePrefixWithCount() {
        assertThat(NamePath.of("\\_SB.PCI0.ISA").encode())
                .containsExactly('\\', 0x2F, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_');
    }

    @Test
    void parentPrefixesComeBeforeTheSegments() {
        assertThat(NamePath.of("^^FOO").encode()).containsExactly('^', '^', 'F', 'O', 'O', '_');
    }

    @Test
    void rootAloneIsRootCharAndNullName() {
        assertThat(NamePath.of("\\").encode()).containsExactly('\\', 0x00);
    }

    @Test
    void toStringIsTheAslNotation() {
        assertThat(NamePath.of("\\_SB.COM1")).hasToString("\\_SB_.COM1");
        assertThat(new NamePath(false, 1, List.of("FOO"))).hasToString("^FOO_");
    }

    @Test
    void segmentLongerThanFourCharactersIsRefused() {
        assertThatThrownBy(() -> NamePath.of("TOOLONG"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ACPI name segment \"TOOLONG\" is longer than 4 characters");
    }

    @Test
    void lowercaseOrLeadingDigitIsRefused() {
        assertThatThrownBy(() -> NamePath.of("com1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ACPI name segment \"com1\" must start with A-Z or _ and hold only A-Z, 0-9 and _");
        assertThatThrownBy(() -> NamePath.of("1ABC")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void emptySegmentsAndEmptyPathsAreRefused() {
        assertThatThrownBy(() -> NamePath.of("\\_SB..COM1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> NamePath.of(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("an empty ACPI name path names nothing");
    }

    @Test
    void rootedPathWithParentPrefixIsRefused() {
        assertThatThrownBy(() -> NamePath.of("\\^FOO"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("an ACPI name path is either rooted (\\) or relative to a parent (^), not both");
    }
}
