package io.jvfio.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.jvfio.devices.DeviceOptions;
import io.jvfio.sys.IoVector;
import io.jvfio.vfiouser.server.DeviceContext;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-blk's requests served straight on the backend, with a driver's memory that only records what the
 * device did: for requests no real DMA window could hold.
 */
class VirtioBlkRequestTest {
    private static final long HEADER = 0x1000;
    private static final long DATA = 0x10_0000;
    private static final long STATUS = 0x2000;

    @TempDir
    Path directory;

    /** Driver memory that reads the header at {@link #HEADER} and takes the direct path for the data. */
    private static final class RecordingMemory implements GuestMemory {
        final byte[] header;
        int status = -1;
        boolean dataMoved;

        RecordingMemory(int type, long sector) {
            header = ByteBuffer.allocate(VirtioBlk.HEADER_SIZE)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(0, type)
                    .putLong(8, sector)
                    .array();
        }

        @Override
        public void read(long address, byte[] destination, int offset, int length) {
            if (address == HEADER) {
                System.arraycopy(header, 0, destination, offset, length);
            } else {
                dataMoved = true;
            }
        }

        @Override
        public void write(long address, byte[] source, int offset, int length) {
            if (address == STATUS) {
                status = source[offset] & 0xFF;
            } else {
                dataMoved = true;
            }
        }

        @Override
        public void check(List<DescriptorChain.Buffer> buffers) {
            // Every buffer is reachable here.
        }

        @Override
        public boolean direct(
                List<DescriptorChain.Buffer> buffers,
                boolean deviceWrites,
                IoVector vector,
                DeviceContext.DirectTransfer transfer) {
            // As if the data moved: what the device then reports is the point.
            dataMoved = true;
            return true;
        }
    }

    private Path sparseDisk(long bytes) throws IOException {
        Path disk = directory.resolve("big.img");
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.setLength(bytes);
        }
        return disk;
    }

    /** A chain: the header, {@code buffers} data buffers of {@code each} bytes at one address, the status. */
    private static DescriptorChain chain(int buffers, int each, boolean deviceWrites) {
        List<DescriptorChain.Buffer> chain = new ArrayList<>();
        chain.add(new DescriptorChain.Buffer(HEADER, VirtioBlk.HEADER_SIZE, false));
        for (int i = 0; i < buffers; i++) {
            chain.add(new DescriptorChain.Buffer(DATA, each, deviceWrites));
        }
        chain.add(new DescriptorChain.Buffer(STATUS, 1, true));
        return new DescriptorChain(0, chain);
    }

    @Test
    void closingTheServedDeviceTwiceIsQuietAsModelledDevicePromises() throws Exception {
        Path disk = directory.resolve("disk.img");
        Files.write(disk, new byte[4 * VirtioBlk.SECTOR_SIZE]);
        VirtioMmioDevice device = VirtioBlk.create(DeviceOptions.defaults().withFile(disk));
        device.close();

        assertThatCode(device::close).doesNotThrowAnyException();
    }

    @Test
    void aReadOfFourGibibytesGetsIoerrAndMovesNothingInsteadOfAWrappedUsedLength() throws Exception {
        try (VirtioBlk blk = VirtioBlk.open(sparseDisk(5L << 30), false)) {
            RecordingMemory memory = new RecordingMemory(VirtioBlk.T_IN, 0);

            int used = blk.serve(VirtioBlk.REQUEST_QUEUE, chain(4, 1 << 30, true), memory);

            assertThat(memory.status).isEqualTo(VirtioBlk.S_IOERR);
            assertThat(memory.dataMoved).isFalse();
            assertThat(used)
                    .as("nothing written from the first writable byte on: the status lies past the data")
                    .isZero();
            assertThat(blk.totals()).containsEntry("blk.bytes-read", 0L).containsEntry("blk.ioerrs", 1L);
        }
    }

    @Test
    void aWriteOfTwoGibibytesGetsIoerrAndWritesNothing() throws Exception {
        try (VirtioBlk blk = VirtioBlk.open(sparseDisk(3L << 30), false)) {
            RecordingMemory memory = new RecordingMemory(VirtioBlk.T_OUT, 0);

            int used = blk.serve(VirtioBlk.REQUEST_QUEUE, chain(2, 1 << 30, false), memory);

            assertThat(memory.status).isEqualTo(VirtioBlk.S_IOERR);
            assertThat(memory.dataMoved).isFalse();
            assertThat(used).isEqualTo(1);
            assertThat(blk.totals()).containsEntry("blk.bytes-written", 0L);
        }
    }

    @Test
    void aRequestOfTwoGibibytesLessASectorIsServed() throws Exception {
        try (VirtioBlk blk = VirtioBlk.open(sparseDisk(3L << 30), false)) {
            RecordingMemory memory = new RecordingMemory(VirtioBlk.T_IN, 0);
            int longest = VirtioBlk.MAX_REQUEST_BYTES;

            int used = blk.serve(VirtioBlk.REQUEST_QUEUE, chain(1, longest, true), memory);

            assertThat(memory.status).isEqualTo(VirtioBlk.S_OK);
            assertThat(used).isEqualTo(longest + 1);
        }
    }
}
