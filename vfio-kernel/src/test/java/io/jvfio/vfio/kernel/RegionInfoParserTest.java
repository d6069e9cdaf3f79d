package io.jvfio.vfio.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.vfio.RegionCapability;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfio.VfioException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** Region info replies laid out as the kernel lays them out (vfio_info_cap_add: 8-byte aligned, appended). */
class RegionInfoParserTest {
    private static final int READ = 1;
    private static final int WRITE = 2;
    private static final int MMAP = 4;
    private static final int CAPS = 8;

    /** A little-endian reply under construction. */
    private static final class Reply {
        final ByteBuffer b;

        Reply(int argsz, int index, int flags, int capOffset, long size, long offset) {
            b = ByteBuffer.allocate(argsz).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(0, argsz)
                    .putInt(4, flags)
                    .putInt(8, index)
                    .putInt(12, capOffset)
                    .putLong(16, size)
                    .putLong(24, offset);
        }

        Reply header(int at, int id, int version, int next) {
            b.putShort(at, (short) id).putShort(at + 2, (short) version).putInt(at + 4, next);
            return this;
        }

        Reply sparse(int at, int next, long... offsetSizePairs) {
            header(at, 1, 1, next);
            b.putInt(at + 8, offsetSizePairs.length / 2).putInt(at + 12, 0);
            for (int i = 0; i < offsetSizePairs.length; i += 2) {
                b.putLong(at + 16 + 8 * i, offsetSizePairs[i]).putLong(at + 24 + 8 * i, offsetSizePairs[i + 1]);
            }
            return this;
        }

        byte[] bytes() {
            return b.array();
        }
    }

    @Test
    void regionWithoutCapabilitiesHasNoSparseAreas() throws Exception {
        byte[] raw = new Reply(32, 0, READ | WRITE | MMAP, 0, 0x100000, 0).bytes();

        RegionInfo info = RegionInfoParser.parse("dev", raw);

        assertThat(info).isEqualTo(RegionInfo.of(0, READ | WRITE | MMAP, 0x100000, 0));
        assertThat(info.mappableAreas()).containsExactly(new SparseArea(0, 0x100000));
    }

    @Test
    void sparseMmapCapabilityBecomesTheMappableAreas() throws Exception {
        // vfio-pci's BAR holding an MSI-X table: two windows around it.
        byte[] raw = new Reply(32 + 16 + 32, 2, READ | WRITE | MMAP | CAPS, 32, 0x4000, 2L << 40)
                .sparse(32, 0, 0x0, 0x1000, 0x3000, 0x1000)
                .bytes();

        RegionInfo info = RegionInfoParser.parse("dev", raw);

        assertThat(info.offset()).isEqualTo(2L << 40);
        assertThat(info.sparseAreas()).contains(List.of(new SparseArea(0, 0x1000), new SparseArea(0x3000, 0x1000)));
        assertThat(info.mappableAreas()).containsExactly(new SparseArea(0, 0x1000), new SparseArea(0x3000, 0x1000));
        assertThat(info.otherCapabilities()).isEmpty();
    }

    @Test
    void unknownCapabilitiesAreKeptWithTheirBodies() throws Exception {
        // A type capability (id 2: type, subtype), then MSI-X mappable (id 3, header only), then sparse.
        Reply reply = new Reply(32 + 16 + 8 + 32, 1, READ | CAPS | MMAP, 32, 0x2000, 0x1000)
                .header(32, 2, 1, 48)
                .header(48, 3, 1, 56)
                .sparse(56, 0, 0, 0x1000);
        reply.b.putInt(40, 0x8086).putInt(44, 1);

        RegionInfo info = RegionInfoParser.parse("dev", reply.bytes());

        assertThat(info.sparseAreas()).contains(List.of(new SparseArea(0, 0x1000)));
        assertThat(info.otherCapabilities())
                .extracting(RegionCapability::id, RegionCapability::version)
                .containsExactly(Tuple.tuple(2, 1), Tuple.tuple(3, 1));
        assertThat(info.otherCapabilities().get(0).body()).containsExactly(0x86, 0x80, 0, 0, 1, 0, 0, 0);
        assertThat(info.otherCapabilities().get(1).body()).isEmpty();
    }

    @Test
    void capsFlagClearIgnoresCapOffset() throws Exception {
        byte[] raw =
                new Reply(64, 0, READ, 32, 0x100, 0).sparse(32, 0, 0, 0x100).bytes();

        assertThat(RegionInfoParser.parse("dev", raw).sparseAreas()).isEmpty();
    }

    @Test
    void sparseCapabilityOfUnknownVersionMapsNothing() throws Exception {
        Reply reply = new Reply(64, 0, READ | MMAP | CAPS, 32, 0x2000, 0).sparse(32, 0, 0, 0x1000);
        reply.b.putShort(34, (short) 2);

        RegionInfo info = RegionInfoParser.parse("dev", reply.bytes());

        assertThat(info.mappableAreas()).isEmpty();
        assertThat(info.otherCapabilities()).extracting(RegionCapability::id).containsExactly(1);
    }

    @Test
    void chainThatLoopsIsRejected() {
        byte[] raw = new Reply(48, 3, READ | CAPS, 32, 0x100, 0)
                .header(32, 2, 1, 40)
                .header(40, 9, 1, 32)
                .bytes();

        assertThatThrownBy(() -> RegionInfoParser.parse("dev", raw))
                .isInstanceOf(VfioException.class)
                .hasMessage("vfio dev: region 3: capability chain loops back to offset 32");
    }

    @Test
    void capabilityPointingToItselfIsRejected() {
        byte[] raw =
                new Reply(48, 0, READ | CAPS, 32, 0x100, 0).header(32, 9, 1, 32).bytes();

        assertThatThrownBy(() -> RegionInfoParser.parse("dev", raw)).hasMessageContaining("loops back to offset 32");
    }

    @Test
    void capabilityPastTheReplyIsRejected() {
        byte[] raw = new Reply(48, 0, READ | CAPS, 32, 0x100, 0)
                .header(32, 9, 1, 4096)
                .bytes();

        assertThatThrownBy(() -> RegionInfoParser.parse("dev", raw))
                .hasMessage("vfio dev: region 0: capability at offset 4096 lies outside the 48-byte reply"
                        + " (capabilities start at 32)");
    }

    @Test
    void capabilityInsideTheFixedHeaderIsRejected() {
        byte[] raw = new Reply(48, 0, READ | CAPS, 8, 0x100, 0).bytes();

        assertThatThrownBy(() -> RegionInfoParser.parse("dev", raw))
                .hasMessageContaining("capability at offset 8 lies outside");
    }

    @Test
    void capOffsetWithHighBitIsRejectedNotNegative() {
        byte[] raw = new Reply(48, 0, READ | CAPS, 0x80000000, 0x100, 0).bytes();

        assertThatThrownBy(() -> RegionInfoParser.parse("dev", raw))
                .hasMessageContaining("capability at offset 2147483648");
    }

    @Test
    void sparseAreasPastTheReplyAreRejected() {
        Reply reply = new Reply(64, 0, READ | MMAP | CAPS, 32, 0x2000, 0).sparse(32, 0, 0, 0x1000);
        reply.b.putInt(40, 1000);

        assertThatThrownBy(() -> RegionInfoParser.parse("dev", reply.bytes()))
                .hasMessageContaining("sparse mmap capability claims 1000 areas")
                .hasMessageContaining("past the 64-byte reply");
    }

    @Test
    void sparseAreaBeyondTheRegionIsRejected() {
        byte[] raw = new Reply(64, 0, READ | MMAP | CAPS, 32, 0x1000, 0)
                .sparse(32, 0, 0x800, 0x1000)
                .bytes();

        assertThatThrownBy(() -> RegionInfoParser.parse("dev", raw))
                .isInstanceOf(VfioException.class)
                .hasMessageContaining("exceeds the region's size");
    }

    @Test
    void replyShorterThanTheStructIsRejected() {
        assertThatThrownBy(() -> RegionInfoParser.parse("dev", new byte[16]))
                .hasMessageContaining("shorter than vfio_region_info");
    }

    @Test
    void negativeSizeIsRejected() {
        byte[] raw = new Reply(32, 0, READ, 0, -1, 0).bytes();

        assertThatThrownBy(() -> RegionInfoParser.parse("dev", raw)).hasMessageContaining("out of range");
    }
}
