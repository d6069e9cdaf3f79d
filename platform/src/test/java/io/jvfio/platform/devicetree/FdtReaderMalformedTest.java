package io.jvfio.platform.devicetree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each kind of malformed DTB gives a {@link DtbFormatException} that names the problem and its offset. */
class FdtReaderMalformedTest {
    /** / { a = <1>; n@1 { a = <2>; bc; }; }; : struct at 0x38 (0x48 bytes), strings "a\0bc\0" at 0x80. */
    private static byte[] small() {
        return FdtWriter.write(DeviceTree.of(Node.builder("")
                .property(Property.u32("a", 1))
                .child(Node.builder("n@1")
                        .property(Property.u32("a", 2))
                        .property(Property.empty("bc"))
                        .build())
                .build()));
    }

    private static final int STRUCT = 0x38;
    private static final int STRINGS = 0x80;

    private static byte[] with(byte[] dtb, int offset, int value) {
        byte[] copy = dtb.clone();
        ByteBuffer.wrap(copy).putInt(offset, value);
        return copy;
    }

    private static void assertRefused(byte[] dtb, long offset, String... messageParts) {
        assertThatThrownBy(() -> FdtReader.read(dtb))
                .isInstanceOf(DtbFormatException.class)
                .hasMessageStartingWith("malformed DTB at offset 0x" + Long.toHexString(offset) + ": ")
                .hasMessageContainingAll(messageParts)
                .satisfies(e -> assertThat(((DtbFormatException) e).offset()).isEqualTo(offset));
    }

    @Test
    void theSmallFixtureIsValid() throws DtbFormatException {
        assertThat(FdtReader.read(small()).node("/n@1")).isPresent();
    }

    @Test
    void badMagicIsRefused() {
        assertRefused(with(small(), 0, 0xfeedd00d), 0, "bad magic 0xfeedd00d", "not a DTB");
    }

    @Test
    void emptyAndTinyBlobsAreRefusedAsTruncated() {
        assertRefused(new byte[0], 0, "truncated: 0 bytes");
        assertRefused(Arrays.copyOf(small(), 20), 20, "truncated: 20 bytes is shorter than a DTB header");
    }

    @Test
    void blobShorterThanTotalsizeIsRefusedAsTruncated() {
        byte[] dtb = small();

        assertRefused(
                Arrays.copyOf(dtb, dtb.length - 1),
                dtb.length - 1,
                "truncated: header says totalsize 133 but the blob has 132 bytes");
    }

    @Test
    void structOffsetPastTheEndIsRefused() {
        assertRefused(
                with(small(), Fdt.OFF_OFF_DT_STRUCT, 0x1000),
                Fdt.OFF_OFF_DT_STRUCT,
                "off_dt_struct 4096 is outside [40, 133]");
    }

    @Test
    void stringsBlockEndingPastTotalsizeIsRefused() {
        assertRefused(
                with(small(), Fdt.OFF_SIZE_DT_STRINGS, 6),
                Fdt.OFF_OFF_DT_STRINGS,
                "off_dt_strings 128 with size 6 ends at 134, past totalsize 133");
    }

    @Test
    void structSizeWithTheSignBitIsRefusedNotOverflowed() {
        assertRefused(
                with(small(), Fdt.OFF_SIZE_DT_STRUCT, 0xffff_fff0),
                Fdt.OFF_OFF_DT_STRUCT,
                "off_dt_struct 56 with size 4294967280",
                "past totalsize 133");
    }

    @Test
    void misalignedStructOffsetIsRefused() {
        assertRefused(with(small(), Fdt.OFF_OFF_DT_STRUCT, STRUCT + 2), Fdt.OFF_OFF_DT_STRUCT, "not 4-byte aligned");
    }

    @Test
    void newerIncompatibleVersionIsRefused() {
        assertRefused(
                with(small(), Fdt.OFF_LAST_COMP_VERSION, 18),
                Fdt.OFF_LAST_COMP_VERSION,
                "last_comp_version 18 is newer than version 17");
    }

    @Test
    void reservationMapWithoutEndEntryIsRefused() {
        byte[] dtb = with(small(), Fdt.OFF_OFF_MEM_RSVMAP, STRUCT); // the struct block never reads as 0/0

        assertThatThrownBy(() -> FdtReader.read(dtb))
                .isInstanceOf(DtbFormatException.class)
                .hasMessageContaining("memory reservation map runs past totalsize 133 without its 0/0 end entry");
    }

    @Test
    void unterminatedNodeNameIsRefused() {
        // Struct block cut right after "n@1" loses its NUL: size_dt_struct = 0x18 + 4 + 3.
        byte[] dtb = small();
        byte[] cut = with(dtb, Fdt.OFF_SIZE_DT_STRUCT, 0x18 + 4 + 3);
        assertRefused(cut, STRUCT + 0x1c, "node name is not NUL-terminated within the structure block");
    }

    @Test
    void unknownTokenIsRefused() {
        assertRefused(with(small(), STRUCT + 8, 7), STRUCT + 8, "unknown token 0x7 in the structure block");
    }

    @Test
    void propertyNameOffsetOutOfRangeIsRefused() {
        assertRefused(
                with(small(), STRUCT + 16, 5),
                STRUCT + 16,
                "property name offset 5 is outside the strings block (size 5)");
        assertRefused(with(small(), STRUCT + 16, -1), STRUCT + 16, "property name offset 4294967295");
    }

    @Test
    void propertyNameNotTerminatedInsideTheStringsBlockIsRefused() {
        byte[] dtb = small();
        dtb[STRINGS + 4] = 'd'; // "bc\0" becomes "bcd" running to the block's end

        assertRefused(dtb, STRINGS + 2, "property name at strings offset 2 is not NUL-terminated");
    }

    @Test
    void propertyLengthPastTheStructBlockIsRefused() {
        assertRefused(
                with(small(), STRUCT + 12, 0x1000),
                STRUCT + 12,
                "node /: property \"a\" has length 4096, past the structure block's end");
        assertRefused(with(small(), STRUCT + 12, -4), STRUCT + 12, "has length 4294967292");
    }

    @Test
    void structBlockWithoutEndTokenIsRefused() {
        byte[] dtb = with(small(), Fdt.OFF_SIZE_DT_STRUCT, 0x44); // drop FDT_END

        assertRefused(dtb, STRUCT + 0x44, "ends inside a token, without FDT_END");
    }

    @Test
    void endTokenWithOpenNodesIsRefused() {
        assertRefused(
                with(small(), STRUCT + 0x3c, Fdt.FDT_END),
                STRUCT + 0x3c,
                "FDT_END while 2 node(s) are still open, the innermost /n@1");
    }

    @Test
    void endNodeWithoutOpenNodeIsRefused() {
        assertRefused(with(small(), STRUCT, Fdt.FDT_END_NODE), STRUCT, "FDT_END_NODE with no node open");
    }

    @Test
    void propertyAfterSubnodeIsRefused() {
        DeviceTree tree =
                DeviceTree.of(Node.builder("").child(Node.builder("x").build()).build());
        byte[] dtb = FdtWriter.write(tree);
        // BEGIN "" | BEGIN "x" | END_NODE | END_NODE | END: turn the inner END_NODE + outer into PROP len 0 nameoff 0
        int struct = ByteBuffer.wrap(dtb).getInt(Fdt.OFF_OFF_DT_STRUCT);
        byte[] patched =
                with(with(with(dtb, struct + 16, Fdt.FDT_END_NODE), struct + 20, Fdt.FDT_PROP), struct + 24, 0);
        patched = Arrays.copyOf(patched, struct + 42);
        ByteBuffer b = ByteBuffer.wrap(patched);
        b.putInt(struct + 28, 0).putInt(struct + 32, Fdt.FDT_END_NODE).putInt(struct + 36, Fdt.FDT_END);
        int strings = struct + 40;
        b.putInt(Fdt.OFF_TOTALSIZE, strings + 2)
                .putInt(Fdt.OFF_OFF_DT_STRINGS, strings)
                .putInt(Fdt.OFF_SIZE_DT_STRINGS, 2)
                .putInt(Fdt.OFF_SIZE_DT_STRUCT, 40);
        patched[strings] = 'p';
        patched[strings + 1] = 0;

        assertRefused(patched, struct + 20, "node /: property after a subnode");
    }

    @Test
    void duplicatePropertyInBlobIsRefusedNamingNodeAndProperty() {
        byte[] dtb = with(small(), STRUCT + 0x38, 0); // /n@1's empty "bc" now names "a" too

        assertRefused(dtb, STRUCT + 0x30, "node /n@1: duplicate property \"a\"");
    }

    @Test
    void invalidNodeNameInBlobIsRefusedNamingThePath() {
        byte[] dtb = small();
        dtb[STRUCT + 0x1c + 1] = ' '; // "n 1"

        assertRefused(dtb, STRUCT + 0x18, "node /n 1: node name \"n 1\": character ' ' is not allowed");
    }

    @Test
    void rootWithANameIsRefused() {
        byte[] dtb = small();
        dtb[STRUCT + 4] = 'r';

        assertThatThrownBy(() -> FdtReader.read(dtb))
                .isInstanceOf(DtbFormatException.class)
                .hasMessageContaining("the root node's name is \"r\"");
    }

    @Test
    void nestingDeeperThanTheLimitIsRefused() {
        Node node = Node.builder("x").build();
        for (int i = 0; i < FdtReader.MAX_DEPTH; i++) {
            node = Node.builder("x").child(node).build();
        }
        byte[] dtb = FdtWriter.write(DeviceTree.of(Node.builder("").child(node).build()));

        assertThatThrownBy(() -> FdtReader.read(dtb))
                .isInstanceOf(DtbFormatException.class)
                .hasMessageContaining("nodes nested more than 64 deep");
    }

    @Test
    void duplicatePhandlesInBlobAreRefused() {
        DeviceTree tree = DeviceTree.of(Node.builder("")
                .child(Node.builder("a").phandle(1).build())
                .child(Node.builder("b").phandle(2).build())
                .build());
        byte[] dtb = FdtWriter.write(tree);
        // /b's phandle value is the last cell before its END_NODE, END_NODE, END.
        int struct = ByteBuffer.wrap(dtb).getInt(Fdt.OFF_OFF_DT_STRUCT);
        int size = ByteBuffer.wrap(dtb).getInt(Fdt.OFF_SIZE_DT_STRUCT);
        byte[] dup = with(dtb, struct + size - 16, 1);

        assertThatThrownBy(() -> FdtReader.read(dup))
                .isInstanceOf(DtbFormatException.class)
                .hasMessageContaining("node /b: phandle 0x1 is already the phandle of /a");
    }

    /** No single corrupted word or truncation of a real DTB escapes as anything but DtbFormatException. */
    @Test
    void everyCorruptionGivesACheckedErrorOrAValidTree() {
        byte[] dtb = FdtWriter.write(DtcInteropTest.twoTestDevicesAndOneWithExtras());
        List<Integer> values =
                List.of(0, 1, 2, 3, 4, 9, 0x7fff_ffff, 0x8000_0000, -1, -4, 0x28, dtb.length, dtb.length + 4, 0x10000);
        int parsed = 0;
        for (int offset = 0; offset + 4 <= dtb.length; offset += 4) {
            for (int value : values) {
                parsed += readsOrRefuses(with(dtb, offset, value));
            }
        }
        for (int offset = 0; offset < dtb.length; offset++) {
            byte[] flipped = dtb.clone();
            flipped[offset] ^= (byte) 0x80;
            parsed += readsOrRefuses(flipped);
            byte[] cut = Arrays.copyOf(dtb, offset);
            if (offset >= 8) {
                ByteBuffer.wrap(cut).putInt(Fdt.OFF_TOTALSIZE, offset);
            }
            parsed += readsOrRefuses(cut);
        }
        assertThat(parsed).isPositive();
    }

    private static int readsOrRefuses(byte[] dtb) {
        try {
            FdtReader.read(dtb);
            return 1;
        } catch (DtbFormatException e) {
            assertThat(e.getMessage()).startsWith("malformed DTB at offset 0x");
            return 0;
        }
    }
}
