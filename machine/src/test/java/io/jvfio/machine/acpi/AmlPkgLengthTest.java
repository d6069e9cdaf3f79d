package io.jvfio.machine.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** PkgLength against ACPI 6.5 section 20.2.4, bytes worked out by hand. */
class AmlPkgLengthTest {
    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    @Test
    void lengthsBelowSixtyFourTakeOneByte() {
        assertThat(PkgLength.encode(0)).containsExactly(bytes(0x00));
        assertThat(PkgLength.encode(63)).containsExactly(bytes(0x3F));
    }

    @Test
    void sixtyFourTakesTwoBytesLowNibbleFirst() {
        assertThat(PkgLength.encode(64)).containsExactly(bytes(0x40, 0x04));
    }

    @Test
    void twoBytesReachFourThousandNinetyFive() {
        assertThat(PkgLength.encode(4095)).containsExactly(bytes(0x4F, 0xFF));
    }

    @Test
    void fourThousandNinetySixTakesThreeBytes() {
        assertThat(PkgLength.encode(4096)).containsExactly(bytes(0x80, 0x00, 0x01));
        assertThat(PkgLength.encode(0xFFFFF)).containsExactly(bytes(0x8F, 0xFF, 0xFF));
    }

    @Test
    void fourBytesReachTwoToTheTwentyEighthMinusOne() {
        assertThat(PkgLength.encode(0x100000)).containsExactly(bytes(0xC0, 0x00, 0x00, 0x01));
        assertThat(PkgLength.encode(0x0FFFFFFF)).containsExactly(bytes(0xCF, 0xFF, 0xFF, 0xFF));
    }

    @Test
    void lengthsOutsideTwentyEightBitsAreRefused() {
        assertThatThrownBy(() -> PkgLength.encode(1 << 28))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("AML PkgLength must be 0..268435455, got 268435456");
        assertThatThrownBy(() -> PkgLength.encode(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void prefixedCountsItsOwnBytes() {
        assertThat(PkgLength.prefixed(new byte[62])).hasSize(63).startsWith(bytes(0x3F));
    }

    @Test
    void sixtyThreeBytesOfContentNeedATwoBytePkgLength() {
        // 63 + 1 = 64 no longer fits one byte, so the total is 63 + 2 = 65.
        assertThat(PkgLength.prefixed(new byte[63])).hasSize(65).startsWith(bytes(0x41, 0x04, 0x00));
    }

    @Test
    void contentThatOverflowsTwoBytesOnlyThroughThePrefixGetsThree() {
        assertThat(PkgLength.prefixed(new byte[4093])).hasSize(4095).startsWith(bytes(0x4F, 0xFF, 0x00));
        // 4094 + 2 = 4096 needs a 20-bit length, so the total is 4094 + 3 = 4097 = 0x1001.
        assertThat(PkgLength.prefixed(new byte[4094])).hasSize(4097).startsWith(bytes(0x81, 0x00, 0x01, 0x00));
    }
}
