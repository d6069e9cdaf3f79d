package io.jvfio.machine.acpi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Data and named-object encodings of ACPI 6.5 chapter 20, bytes worked out by hand. */
class AmlTermTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "0x0, 00",
        "0x1, 01",
        "0x2, 0A02",
        "0xFF, 0AFF",
        "0x100, 0B0001",
        "0xFFFF, 0BFFFF",
        "0x10000, 0C00000100",
        "0xFFFFFFFF, 0CFFFFFFFF",
        "0x100000000, 0E0000000001000000",
        "0xFFFFFFFFFFFFFFFE, 0EFEFFFFFFFFFFFFFF",
        "0xFFFFFFFFFFFFFFFF, FF",
    })
    void integerTakesTheShortestEncoding(String value, String expected) {
        long parsed = Long.parseUnsignedLong(value.substring(2), 16);
        assertThat(new Aml.IntegerConst(parsed).encode()).containsExactly(hex(expected));
    }

    @Test
    void stringIsPrefixedAndNulTerminated() {
        assertThat(new Aml.StringConst("abc").encode()).containsExactly(0x0D, 'a', 'b', 'c', 0x00);
        assertThat(new Aml.StringConst("").encode()).containsExactly(0x0D, 0x00);
    }

    @Test
    void nonAsciiStringIsRefused() {
        assertThatThrownBy(() -> new Aml.StringConst("caf\u00e9"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("AML string \"caf\u00e9\" holds a character outside 0x01-0x7F at 3");
    }

    @Test
    void eisaIdOfTheSerialPortIsTheCompressedDword() {
        Aml.EisaId com = new Aml.EisaId("PNP0501");
        assertThat(com.value()).isEqualTo(0x0105D041);
        assertThat(com.encode()).containsExactly(0x0C, 0x41, 0xD0, 0x05, 0x01);
    }

    @Test
    void eisaIdWithSmallValueStaysADword() {
        // "AAA0000" packs to 0x04210000, stored as 0x00002104: still DWord-prefixed, as iasl writes it.
        assertThat(new Aml.EisaId("AAA0000").encode()).containsExactly(0x0C, 0x04, 0x21, 0x00, 0x00);
    }

    @Test
    void malformedEisaIdIsRefused() {
        assertThatThrownBy(() -> new Aml.EisaId("pnp0501"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("EISA ID \"pnp0501\" is not three letters A-Z and four hex digits 0-9A-F (like PNP0501)");
        assertThatThrownBy(() -> new Aml.EisaId("PNP501")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bufferHoldsItsSizeAsAnIntegerAfterThePkgLength() {
        assertThat(new Aml.Buffer(new byte[] {1, 2, 3}).encode()).containsExactly(0x11, 0x06, 0x0A, 0x03, 1, 2, 3);
        assertThat(new Aml.Buffer(new byte[0]).encode()).containsExactly(0x11, 0x02, 0x00);
    }

    @Test
    void bufferOfSixtyOneBytesCrossesToATwoBytePkgLength() {
        // 60 bytes: 2 (size) + 60 + 1 = 63 fits one byte; 61 bytes: 2 + 61 + 2 = 65 = 0x41.
        assertThat(new Aml.Buffer(new byte[60]).encode())
                .startsWith(0x11, 0x3F, 0x0A, 0x3C)
                .hasSize(64);
        assertThat(new Aml.Buffer(new byte[61]).encode())
                .startsWith(0x11, 0x41, 0x04, 0x0A, 0x3D)
                .hasSize(66);
    }

    @Test
    void uuidIsLaidOutAsAGuid() {
        Aml.Buffer uuid = Aml.Buffer.uuid(UUID.fromString("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"));
        assertThat(uuid.bytes()).containsExactly(hex("14D8FFDABA6E8C4D8A91BC9BBF4AA301"));
    }

    @Test
    void packageCountsItsElements() {
        Aml.Package p = new Aml.Package(new Aml.IntegerConst(1), new Aml.StringConst("a"));
        assertThat(p.encode()).containsExactly(0x12, 0x06, 0x02, 0x01, 0x0D, 'a', 0x00);
    }

    @Test
    void packageOfMoreThan255ElementsIsRefused() {
        List<Aml.Operand> elements = Collections.nCopies(256, new Aml.IntegerConst(0));
        assertThatThrownBy(() -> new Aml.Package(elements))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("an AML package holds at most 255 elements, got 256");
    }

    @Test
    void nameBindsAValue() {
        assertThat(new Aml.Name("_UID", new Aml.IntegerConst(0)).encode())
                .containsExactly(0x08, '_', 'U', 'I', 'D', 0x00);
    }

    @Test
    void scopeWrapsItsBodyInAPkgLength() {
        Aml.Scope scope = new Aml.Scope("\\_SB", new Aml.Name("FOO", new Aml.IntegerConst(1)));
        assertThat(scope.encode())
                .containsExactly(0x10, 0x0C, '\\', '_', 'S', 'B', '_', 0x08, 'F', 'O', 'O', '_', 0x01);
    }

    @Test
    void deviceUsesTheExtendedOpcode() {
        Aml.Device device = new Aml.Device("COM1", new Aml.Name("_UID", new Aml.IntegerConst(0)));
        assertThat(device.encode())
                .containsExactly(0x5B, 0x82, 0x0B, 'C', 'O', 'M', '1', 0x08, '_', 'U', 'I', 'D', 0x00);
    }

    @Test
    void serializedMethodSetsFlagBitThree() {
        Aml.Method sta = new Aml.Method("_STA", 0, true, new Aml.Return(new Aml.IntegerConst(0x0F)));
        assertThat(sta.encode()).containsExactly(0x14, 0x09, '_', 'S', 'T', 'A', 0x08, 0xA4, 0x0A, 0x0F);
    }

    @Test
    void methodFlagsCarryTheArgumentCount() {
        assertThat(new Aml.Method("FOO", 3, false).encode()).containsExactly(0x14, 0x06, 'F', 'O', 'O', '_', 0x03);
    }

    @Test
    void methodWithEightArgumentsIsRefused() {
        assertThatThrownBy(() -> new Aml.Method("FOO", 8, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("AML method FOO_ takes 0..7 arguments, got 8");
    }

    @Test
    void returnOfAReferenceEncodesTheNamePath() {
        assertThat(new Aml.Return(NamePath.of("\\_SB.FOO")).encode())
                .containsExactly(0xA4, '\\', 0x2E, '_', 'S', 'B', '_', 'F', 'O', 'O', '_');
    }

    static byte[] hex(String digits) {
        return HexFormat.of().parseHex(digits);
    }
}
