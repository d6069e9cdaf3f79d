package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

class BytesTest {
    @Test
    void equalBytesInDistinctArraysAreEqualAndHashAlike() {
        Bytes one = Bytes.copyOf(new byte[] {1, 2, 3});
        Bytes other = Bytes.adopt(new byte[] {1, 2, 3});

        assertThat(one).isEqualTo(other).hasSameHashCodeAs(other);
        assertThat(one).isNotEqualTo(Bytes.copyOf(new byte[] {1, 2, 4}));
        assertThat(one).isNotEqualTo(Bytes.copyOf(new byte[] {1, 2}));
        assertThat(Bytes.copyOf(new byte[0])).isSameAs(Bytes.EMPTY);
    }

    @Test
    void payloadsHoldingEqualBytesAreEqual() {
        assertThat(Payload.RegionAccess.withData(0x10, 2, Bytes.copyOf(new byte[] {1, 2, 3, 4})))
                .isEqualTo(Payload.RegionAccess.withData(0x10, 2, Bytes.copyOf(new byte[] {1, 2, 3, 4})))
                .hasSameHashCodeAs(Payload.RegionAccess.withData(0x10, 2, Bytes.copyOf(new byte[] {1, 2, 3, 4})));
    }

    @Test
    void changingTheArrayCopiedFromChangesNothing() {
        byte[] array = {1, 2, 3};
        Bytes bytes = Bytes.copyOf(array);
        Bytes range = Bytes.copyOfRange(array, 1, 3);

        array[1] = 9;

        assertThat(bytes.toArray()).containsExactly(1, 2, 3);
        assertThat(range.toArray()).containsExactly(2, 3);
    }

    @Test
    void changingWhatToArrayReturnedChangesNothing() {
        Bytes bytes = Bytes.copyOf(new byte[] {1, 2, 3});

        bytes.toArray()[0] = 9;

        assertThat(bytes.toArray()).containsExactly(1, 2, 3);
    }

    @Test
    void aRangeMustLieWithinTheArray() {
        assertThatThrownBy(() -> Bytes.copyOfRange(new byte[4], 2, 5)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void readsAndBuildsLittleEndianValues() {
        assertThat(Bytes.copyOf(new byte[] {0x78, 0x56, 0x34, 0x12}).littleEndianValue())
                .isEqualTo(0x12345678L);
        assertThat(Bytes.copyOf(new byte[] {(byte) 0xFF, (byte) 0xFF}).littleEndianValue())
                .as("no sign extension")
                .isEqualTo(0xFFFFL);
        assertThat(Bytes.EMPTY.littleEndianValue()).isZero();
        assertThat(Bytes.littleEndian(0x1122334455667788L, 8).toArray())
                .containsExactly(0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11);
        assertThat(Bytes.littleEndian(0xAABBCCDD, 2).toArray()).containsExactly(0xDD, 0xCC);
        assertThat(Bytes.littleEndian(-2, 8).littleEndianValue()).isEqualTo(-2);
    }

    @Test
    void moreThanEightBytesHaveNoLittleEndianValue() {
        assertThatThrownBy(() -> Bytes.copyOf(new byte[9]).littleEndianValue())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("9 bytes");
        assertThatThrownBy(() -> Bytes.littleEndian(0, 9)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void printsAsHex() {
        assertThat(Bytes.copyOf(new byte[] {0x0A, (byte) 0xFF, 0}).toString()).isEqualTo("0aff00");
        assertThat(Bytes.EMPTY.toString()).isEmpty();
        assertThat(Payload.RegionAccess.withData(0x10, 2, Bytes.copyOf(new byte[] {1, 2}))
                        .toString())
                .isEqualTo("RegionAccess[offset=16, region=2, count=2, data=0102]");
    }

    @Test
    void copiesAFewBytesToTheBuffersPosition() {
        ByteBuffer out = ByteBuffer.allocate(8);
        out.put((byte) 7);

        Bytes.copyOf(new byte[] {1, 2, 3}).copyTo(out);

        assertThat(out.position()).isEqualTo(4);
        assertThat(out.array()).containsExactly(7, 1, 2, 3, 0, 0, 0, 0);
    }

    @Test
    void copiesManyBytesToTheBuffersPosition() {
        byte[] array = new byte[100];
        for (int i = 0; i < array.length; i++) {
            array[i] = (byte) i;
        }
        ByteBuffer out = ByteBuffer.wrap(new byte[110], 5, 105);

        Bytes.copyOf(array).copyTo(out);

        assertThat(out.position()).isEqualTo(105);
        assertThat(out.array()).startsWith(0, 0, 0, 0, 0, 0, 1, 2).endsWith(98, 99, 0, 0, 0, 0, 0);
    }

    @Test
    void aBufferWithoutRoomIsRefused() {
        assertThatThrownBy(() -> Bytes.copyOf(new byte[4]).copyTo(ByteBuffer.allocate(3)))
                .isInstanceOf(BufferOverflowException.class);
    }

    @Test
    void readsInPlaceWithoutLettingTheBytesChange() {
        Bytes bytes = Bytes.copyOf(new byte[] {1, 2, 3, 4});

        ByteBuffer view = bytes.asReadOnlyBuffer();

        assertThat(view.remaining()).isEqualTo(4);
        assertThat(view.getShort()).isEqualTo((short) 0x0102);
        assertThat(view.isReadOnly()).isTrue();
        assertThatThrownBy(() -> view.put(0, (byte) 9)).isInstanceOf(ReadOnlyBufferException.class);
        assertThat(bytes.at(3)).isEqualTo((byte) 4);
        assertThatThrownBy(() -> bytes.at(4)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
