package io.jvfio.platform.devicetree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Each property kind's bytes, as the DTB stores them, and its typed view. */
class PropertyTest {
    @Test
    void kindsHaveTheirBigEndianBytes() {
        assertThat(Property.empty("e").value()).isEmpty();
        assertThat(Property.u32("u", 0xd0000000).value()).containsExactly(0xd0, 0x00, 0x00, 0x00);
        assertThat(Property.u64("u", 0x0102030405060708L).value()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(Property.cells("c", 1, 0xfec00000).value()).containsExactly(0, 0, 0, 1, 0xfe, 0xc0, 0, 0);
        assertThat(Property.cells("c", List.of(2)).value()).containsExactly(0, 0, 0, 2);
        assertThat(Property.string("s", "ab").value()).containsExactly('a', 'b', 0);
        assertThat(Property.strings("s", "a", "", "b").value()).containsExactly('a', 0, 0, 'b', 0);
        assertThat(Property.bytes("b", new byte[] {9}).value()).containsExactly(9);
    }

    @Test
    void typedViewsReadTheKindsBack() {
        assertThat(Property.u32("u", -2).asU32()).isEqualTo(-2);
        assertThat(Property.u64("u", 1L << 40).asU64()).isEqualTo(1L << 40);
        assertThat(Property.cells("c", 1, 2, 3).asCells()).containsExactly(1, 2, 3);
        assertThat(Property.string("s", "jvfio,test-device").asString()).isEqualTo("jvfio,test-device");
        assertThat(Property.strings("s", "a", "b").asStrings()).containsExactly("a", "b");
    }

    @Test
    void typedViewsRefuseTheWrongShape() {
        assertThatThrownBy(() -> Property.u64("u", 1).asU32())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("property \"u\": 8 bytes is not a u32");
        assertThatThrownBy(() -> Property.bytes("b", new byte[3]).asCells())
                .hasMessage("property \"b\": 3 bytes is not a whole number of cells");
        assertThatThrownBy(() -> Property.u32("u", 1).asStrings())
                .hasMessage("property \"u\": not a NUL-terminated string list");
        assertThatThrownBy(() -> Property.strings("s", "a", "b").asString())
                .hasMessage("property \"s\": holds 2 strings, not one");
    }

    @Test
    void stringsWithNulOrNoStringsAreRefused() {
        assertThatThrownBy(() -> Property.string("s", "a\0b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("property \"s\": string contains NUL: a\\0b");
        assertThatThrownBy(() -> Property.strings("s", List.of()))
                .hasMessage("property \"s\": a string list needs at least one string");
    }

    @Test
    void valuesAreCopiedInAndOut() {
        byte[] raw = {1, 2};
        Property property = Property.bytes("b", raw);
        raw[0] = 9;
        property.value()[1] = 9;

        assertThat(property.value()).containsExactly(1, 2);
    }

    @Test
    void equalityIsByNameAndBytes() {
        assertThat(Property.u32("a", 1))
                .isEqualTo(Property.bytes("a", new byte[] {0, 0, 0, 1}))
                .hasSameHashCodeAs(Property.bytes("a", new byte[] {0, 0, 0, 1}))
                .isNotEqualTo(Property.u32("b", 1))
                .isNotEqualTo(Property.u32("a", 2));
    }

    @Test
    void toStringLooksLikeDts() {
        assertThat(Property.empty("dma-coherent")).hasToString("dma-coherent;");
        assertThat(Property.strings("compatible", "a,b", "c")).hasToString("compatible = \"a,b\", \"c\";");
        assertThat(Property.cells("reg", 0, 0xd0000000)).hasToString("reg = <0x0 0xd0000000>;");
        assertThat(Property.bytes("mac", new byte[] {0x52, 0, 1})).hasToString("mac = [52 00 01];");
    }
}
