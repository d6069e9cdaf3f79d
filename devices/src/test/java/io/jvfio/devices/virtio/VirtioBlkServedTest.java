package io.jvfio.devices.virtio;

import static io.jvfio.devices.virtio.SplitVirtqueue.DESC_F_NEXT;
import static io.jvfio.devices.virtio.SplitVirtqueue.DESC_F_WRITE;
import static io.jvfio.devices.virtio.VirtioMmioRegisters.*;
import static io.jvfio.devices.virtio.VirtioTestDriver.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.devices.DeviceOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-blk on the virtio-mmio transport through a real vfio-user connection: requests as Linux's
 * virtio_blk builds them (header, data, status in one chain) in a DMA window the client mapped, served
 * from and to a real file.
 */
class VirtioBlkServedTest {
    private static final int SECTORS = 64;
    private static final long HEADER = BUFFERS;
    private static final long DATA = BUFFERS + 0x100;
    private static final long STATUS_BYTE = BUFFERS + 0x80;

    @TempDir
    Path directory;

    private Path disk;
    private VirtioTestDriver driver;

    private void serve(boolean readOnly) throws Exception {
        disk = directory.resolve("disk.img");
        Files.write(disk, pattern(SECTORS * 512, 7));
        DeviceOptions options = DeviceOptions.defaults().withFile(disk);
        driver = VirtioTestDriver.start(directory, VirtioBlk.create(readOnly ? options.withReadOnly() : options));
    }

    /** With the guest RAM shared only through DMA messages, so that data passes through the staging buffer. */
    private void serveWithStaging(int stagingSize) throws Exception {
        disk = directory.resolve("disk.img");
        Files.write(disk, pattern(SECTORS * 512, 7));
        driver = VirtioTestDriver.start(
                directory, new VirtioMmioDevice(VirtioBlk.open(disk, false, stagingSize)), false);
    }

    @AfterEach
    void stop() {
        if (driver != null) {
            driver.close();
        }
    }

    @Test
    void theRegistersIdentifyABlockDeviceWithItsCapacityAndLimitsInTheConfigurationSpace() throws Exception {
        serve(false);

        assertThat(driver.read(DEVICE_ID)).isEqualTo(2);
        driver.write(QUEUE_SEL, 0);
        assertThat(driver.read(QUEUE_NUM_MAX)).isEqualTo(256);
        assertThat(driver.client.read(VirtioMmioDevice.REGS_REGION, CONFIG, 8))
                .as("capacity in sectors")
                .isEqualTo(SECTORS);
        assertThat(driver.client.read(VirtioMmioDevice.REGS_REGION, CONFIG + 4, 4))
                .as("capacity's high word")
                .isZero();
        assertThat(driver.client.read(VirtioMmioDevice.REGS_REGION, CONFIG + 8, 4))
                .as("size_max")
                .isEqualTo(64 * 1024);
        assertThat(driver.client.read(VirtioMmioDevice.REGS_REGION, CONFIG + 12, 4))
                .as("seg_max")
                .isEqualTo(254);
        assertThat(driver.deviceFeatures())
                .isEqualTo(FEATURE_VERSION_1
                        | VirtioMmioDevice.FEATURE_INDIRECT_DESC
                        | VirtioBlk.FEATURE_SIZE_MAX
                        | VirtioBlk.FEATURE_SEG_MAX
                        | VirtioBlk.FEATURE_FLUSH);
    }

    @Test
    void aReadOnlyFileIsOfferedWithTheRoFeature() throws Exception {
        serve(true);

        assertThat(driver.deviceFeatures() & VirtioBlk.FEATURE_RO).isEqualTo(VirtioBlk.FEATURE_RO);
    }

    @Test
    void aReadFillsTheDataBuffersFromTheFileAndReportsOk() throws Exception {
        serve(false);
        driver.startLikeLinux(128);

        request(0, VirtioBlk.T_IN, 3, DATA, 1024, true);

        assertThat(driver.awaitInterrupt()).isTrue();
        assertThat(driver.used(0)).containsExactly(0, 1025);
        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.ramBytes(DATA, 1024))
                .isEqualTo(Arrays.copyOfRange(pattern(SECTORS * 512, 7), 3 * 512, 5 * 512));
    }

    @Test
    void aWriteReachesTheFileAtItsSectorAndAFlushIsOk() throws Exception {
        serve(false);
        driver.startLikeLinux(128);
        byte[] written = pattern(512, 99);
        driver.ram.copyFrom(written, 0, DATA, 512);

        request(0, VirtioBlk.T_OUT, 10, DATA, 512, false);
        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.used(0)).as("only the status is written").containsExactly(0, 1);
        request(0, VirtioBlk.T_FLUSH, 0, 0, 0, false);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        byte[] file = Files.readAllBytes(disk);
        assertThat(Arrays.copyOfRange(file, 10 * 512, 11 * 512)).isEqualTo(written);
        assertThat(Arrays.copyOfRange(file, 0, 10 * 512))
                .as("the sectors before are untouched")
                .isEqualTo(Arrays.copyOfRange(pattern(SECTORS * 512, 7), 0, 10 * 512));
        assertThat(driver.device.totals())
                .containsEntry("blk.writes", 1L)
                .containsEntry("blk.flushes", 1L)
                .containsEntry("blk.bytes-written", 512L);
    }

    @Test
    void withoutTheFlushFeatureAWriteIsForcedToStorageBeforeItsStatusSaysOk() throws Exception {
        serve(false);
        driver.startLikeLinux(128);
        driver.ram.copyFrom(pattern(512, 5), 0, DATA, 512);

        request(0, VirtioBlk.T_OUT, 1, DATA, 512, false);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.device.totals()).containsEntry("blk.write-syncs", 1L);
        driver.negotiate(FEATURE_VERSION_1 | VirtioBlk.FEATURE_FLUSH);
        driver.setUpQueue(128);
        driver.driverOk();
        driver.ram.copyFrom(pattern(512, 6), 0, DATA, 512);
        request(0, VirtioBlk.T_OUT, 2, DATA, 512, false);
        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.device.totals())
                .as("with FLUSH the driver asks when it wants its writes stable")
                .containsEntry("blk.writes", 2L)
                .containsEntry("blk.write-syncs", 1L);
    }

    @Test
    void aDataBufferSplitOverTwoDescriptorsIsReadInChainOrder() throws Exception {
        serve(false);
        driver.startLikeLinux(128);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + HEADER, 16, DESC_F_NEXT, 1);
        driver.descriptor(DESCRIPTORS, 1, RAM_IOVA + DATA + 0x1000, 512, DESC_F_WRITE | DESC_F_NEXT, 2);
        driver.descriptor(DESCRIPTORS, 2, RAM_IOVA + DATA, 512, DESC_F_WRITE | DESC_F_NEXT, 3);
        driver.descriptor(DESCRIPTORS, 3, RAM_IOVA + STATUS_BYTE, 1, DESC_F_WRITE, 0);
        header(VirtioBlk.T_IN, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        byte[] file = pattern(SECTORS * 512, 7);
        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.ramBytes(DATA + 0x1000, 512)).isEqualTo(Arrays.copyOfRange(file, 0, 512));
        assertThat(driver.ramBytes(DATA, 512)).isEqualTo(Arrays.copyOfRange(file, 512, 1024));
    }

    @Test
    void aRequestLongerThanOneHostTransferIsMovedInSpansThatCrossItsBuffers() throws Exception {
        // 768-byte host transfers over two 1024-byte buffers: spans end and start inside a buffer.
        serveWithStaging(768);

        readsAndWritesTwoBuffersInChainOrder();

        assertThat(driver.device.totals()).containsEntry("blk.bytes-staged", 4096L);
    }

    @Test
    void aStagedWriteWithALaterBufferOutsideTheDmaWindowsNeedsAResetAndLeavesTheFileUnchanged() throws Exception {
        // 512-byte host transfers: the first buffer alone takes two, both before the second is reached.
        serveWithStaging(512);
        driver.startLikeLinux(128);
        byte[] before = Files.readAllBytes(disk);
        driver.ram.copyFrom(pattern(1024, 99), 0, DATA, 1024);
        driver.ram.putByte(STATUS_BYTE, (byte) 0xFF);
        header(VirtioBlk.T_OUT, 20);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + HEADER, 16, DESC_F_NEXT, 1);
        driver.descriptor(DESCRIPTORS, 1, RAM_IOVA + DATA, 1024, DESC_F_NEXT, 2);
        driver.descriptor(DESCRIPTORS, 2, RAM_IOVA + RAM_SIZE, 1024, DESC_F_NEXT, 3);
        driver.descriptor(DESCRIPTORS, 3, RAM_IOVA + STATUS_BYTE, 1, DESC_F_WRITE, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET).isEqualTo(STATUS_NEEDS_RESET);
        assertThat(driver.usedIndex()).isZero();
        assertThat(Files.readAllBytes(disk))
                .as("nothing of the request written")
                .isEqualTo(before);
        assertThat(driver.device.totals()).containsEntry("blk.bytes-written", 0L);
    }

    @Test
    void aWriteWhoseStatusByteIsOutsideTheDmaWindowsNeedsAResetAndLeavesTheFileUnchanged() throws Exception {
        serve(false);
        driver.startLikeLinux(128);
        byte[] before = Files.readAllBytes(disk);
        driver.ram.copyFrom(pattern(512, 99), 0, DATA, 512);
        header(VirtioBlk.T_OUT, 20);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + HEADER, 16, DESC_F_NEXT, 1);
        driver.descriptor(DESCRIPTORS, 1, RAM_IOVA + DATA, 512, DESC_F_NEXT, 2);
        driver.descriptor(DESCRIPTORS, 2, RAM_IOVA + RAM_SIZE, 1, DESC_F_WRITE, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET).isEqualTo(STATUS_NEEDS_RESET);
        assertThat(Files.readAllBytes(disk))
                .as("nothing of the request written")
                .isEqualTo(before);
    }

    @Test
    void withTheGuestsRamFdTheDataMovesBetweenFileAndRamWithoutStagingInEitherDirection() throws Exception {
        serve(false);

        readsAndWritesTwoBuffersInChainOrder();

        assertThat(driver.device.totals()).containsEntry("blk.bytes-staged", 0L);
    }

    /** A read of sectors 2-5 into two 1 KiB buffers, then a write of sectors 20-23 from them. */
    private void readsAndWritesTwoBuffersInChainOrder() throws Exception {
        driver.startLikeLinux(128);
        byte[] file = pattern(SECTORS * 512, 7);
        twoBufferRequest(VirtioBlk.T_IN, 2, true);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.used(0)).containsExactly(0, 2049);
        assertThat(driver.ramBytes(DATA + 0x1000, 1024)).isEqualTo(Arrays.copyOfRange(file, 1024, 2048));
        assertThat(driver.ramBytes(DATA, 1024)).isEqualTo(Arrays.copyOfRange(file, 2048, 3072));

        byte[] written = pattern(2048, 99);
        driver.ram.copyFrom(written, 0, DATA + 0x1000, 1024);
        driver.ram.copyFrom(written, 1024, DATA, 1024);
        twoBufferRequest(VirtioBlk.T_OUT, 20, false);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(Arrays.copyOfRange(Files.readAllBytes(disk), 20 * 512, 24 * 512))
                .isEqualTo(written);
        assertThat(driver.device.totals())
                .containsEntry("blk.bytes-read", 2048L)
                .containsEntry("blk.bytes-written", 2048L);
    }

    @Test
    void aDirectReadPastTheEndOfAFileThatShrankReadsZeros() throws Exception {
        serve(false);
        readPastTheEndOfAFileThatShrankReadsZeros();
        assertThat(driver.device.totals()).containsEntry("blk.bytes-staged", 0L);
    }

    @Test
    void aStagedReadPastTheEndOfAFileThatShrankReadsZeros() throws Exception {
        serveWithStaging(768);
        readPastTheEndOfAFileThatShrankReadsZeros();
        assertThat(driver.device.totals()).containsEntry("blk.bytes-staged", 1024L);
    }

    /** Sectors 4-5 into a 1 KiB buffer the driver filled first, from a file cut 256 bytes into sector 4. */
    private void readPastTheEndOfAFileThatShrankReadsZeros() throws Exception {
        driver.startLikeLinux(128);
        driver.ram.copyFrom(pattern(1024, 3), 0, DATA, 1024);
        try (FileChannel shrinking = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            shrinking.truncate(4 * 512 + 256);
        }

        request(0, VirtioBlk.T_IN, 4, DATA, 1024, true);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        byte[] expected = new byte[1024];
        System.arraycopy(pattern(SECTORS * 512, 7), 4 * 512, expected, 0, 256);
        assertThat(driver.ramBytes(DATA, 1024)).isEqualTo(expected);
    }

    @Test
    void requestsPastTheCapacityGetIoerrAndTouchNothing() throws Exception {
        serve(false);
        driver.startLikeLinux(128);
        driver.ram.copyFrom(pattern(1024, 5), 0, DATA, 1024);

        request(0, VirtioBlk.T_OUT, SECTORS - 1, DATA, 1024, false);
        assertThat(statusByte()).isEqualTo(VirtioBlk.S_IOERR);
        request(0, VirtioBlk.T_IN, SECTORS, DATA, 512, true);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(Files.readAllBytes(disk)).isEqualTo(pattern(SECTORS * 512, 7));
        assertThat(driver.device.totals()).containsEntry("blk.ioerrs", 2L).containsEntry("device.needs-reset", 0L);
    }

    @Test
    void aWriteToAReadOnlyDiskGetsIoerr() throws Exception {
        serve(true);
        driver.startLikeLinux(128);

        request(0, VirtioBlk.T_OUT, 0, DATA, 512, false);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(Files.readAllBytes(disk)).isEqualTo(pattern(SECTORS * 512, 7));
    }

    @Test
    void getIdAnswersTheFilesNameInTwentyBytes() throws Exception {
        serve(false);
        driver.startLikeLinux(128);

        request(0, VirtioBlk.T_GET_ID, 0, DATA, 20, true);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.used(0)).containsExactly(0, 21);
        assertThat(driver.ramBytes(DATA, 20)).isEqualTo(Arrays.copyOf("disk.img".getBytes(), 20));
    }

    @Test
    void theUsedLengthCoversOnlyBytesWrittenFromTheFirstWritableOne() throws Exception {
        serve(false);
        driver.startLikeLinux(128);

        request(0, VirtioBlk.T_GET_ID, 0, DATA, 512, true);
        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.used(0))
                .as("the serial; the status byte lies 492 bytes past it")
                .containsExactly(0, 20);
        request(0, VirtioBlk.T_IN, SECTORS, DATA, 512, true);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(driver.used(1)).as("no data read").containsExactly(0, 0);
    }

    @Test
    void getIdSkipsAnEmptyDataBufferBeforeTheOneThatHoldsTheSerial() throws Exception {
        serve(false);
        driver.startLikeLinux(128);
        driver.ram.putByte(STATUS_BYTE, (byte) 0xFF);
        header(VirtioBlk.T_GET_ID, 0);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + HEADER, 16, DESC_F_NEXT, 1);
        driver.descriptor(DESCRIPTORS, 1, RAM_IOVA + DATA + 0x100, 0, DESC_F_WRITE | DESC_F_NEXT, 2);
        driver.descriptor(DESCRIPTORS, 2, RAM_IOVA + DATA, 20, DESC_F_WRITE | DESC_F_NEXT, 3);
        driver.descriptor(DESCRIPTORS, 3, RAM_IOVA + STATUS_BYTE, 1, DESC_F_WRITE, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.ramBytes(DATA, 20)).isEqualTo(Arrays.copyOf("disk.img".getBytes(), 20));
        assertThat(driver.used(0)).containsExactly(0, 21);
    }

    @Test
    void anUnknownRequestTypeGetsUnsupp() throws Exception {
        serve(false);
        driver.startLikeLinux(128);

        request(0, 11, 0, 0, 0, false);

        assertThat(statusByte()).isEqualTo(VirtioBlk.S_UNSUPP);
        assertThat(driver.device.totals()).containsEntry("blk.unsupported", 1L);
    }

    @Test
    void aRequestWithoutAStatusByteMakesTheDeviceNeedAReset() throws Exception {
        serve(false);
        driver.startLikeLinux(128);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + HEADER, 16, 0, 0);
        header(VirtioBlk.T_FLUSH, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET).isEqualTo(STATUS_NEEDS_RESET);
        assertThat(driver.usedIndex()).isZero();
    }

    @Test
    void theCatalogRefusesAMissingOrUnopenableFileAndOtherModelsRefuseIt() throws Exception {
        assertThatThrownBy(() -> VirtioBlk.create(DeviceOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--file");
        assertThatThrownBy(() -> VirtioBlk.create(DeviceOptions.defaults().withFile(directory.resolve("absent.img"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("absent.img");
        assertThatThrownBy(() -> VirtioBlk.create(DeviceOptions.defaults().withFile(directory)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--file " + directory + ": not a regular file");
        Path tiny = Files.write(directory.resolve("tiny.img"), new byte[100]);
        assertThatThrownBy(() -> VirtioBlk.create(DeviceOptions.defaults().withFile(tiny)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("less than one 512-byte sector");
        assertThatThrownBy(() -> VirtioRng.create(DeviceOptions.defaults().withFile(tiny)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("options of virtio-blk");
    }

    /**
     * One request as Linux builds it, made available and notified: the header in descriptor 0, the data
     * (if {@code length} > 0) in descriptor 1, the status byte last. The status byte is cleared first.
     */
    private void request(int head, int type, long sector, long data, int length, boolean deviceWrites)
            throws Exception {
        driver.ram.putByte(STATUS_BYTE, (byte) 0xFF);
        header(type, sector);
        int status = length > 0 ? 2 : 1;
        driver.descriptor(DESCRIPTORS, head, RAM_IOVA + HEADER, 16, DESC_F_NEXT, 1);
        if (length > 0) {
            driver.descriptor(
                    DESCRIPTORS, 1, RAM_IOVA + data, length, (deviceWrites ? DESC_F_WRITE : 0) | DESC_F_NEXT, status);
        }
        driver.descriptor(DESCRIPTORS, status, RAM_IOVA + STATUS_BYTE, 1, DESC_F_WRITE, 0);
        driver.makeAvailable(head);
        driver.notifyQueue();
    }

    /**
     * A request whose data is two 1024-byte buffers, the one at DATA + 0x1000 first, then DATA; made
     * available as chain 0 and notified.
     */
    private void twoBufferRequest(int type, long sector, boolean deviceWrites) throws Exception {
        int data = deviceWrites ? DESC_F_WRITE : 0;
        driver.ram.putByte(STATUS_BYTE, (byte) 0xFF);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + HEADER, 16, DESC_F_NEXT, 1);
        driver.descriptor(DESCRIPTORS, 1, RAM_IOVA + DATA + 0x1000, 1024, data | DESC_F_NEXT, 2);
        driver.descriptor(DESCRIPTORS, 2, RAM_IOVA + DATA, 1024, data | DESC_F_NEXT, 3);
        driver.descriptor(DESCRIPTORS, 3, RAM_IOVA + STATUS_BYTE, 1, DESC_F_WRITE, 0);
        header(type, sector);
        driver.makeAvailable(0);
        driver.notifyQueue();
    }

    private void header(int type, long sector) {
        byte[] header = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(type)
                .putInt(0)
                .putLong(sector)
                .array();
        driver.ram.copyFrom(header, 0, HEADER, 16);
    }

    private int statusByte() {
        return driver.ram.getByte(STATUS_BYTE) & 0xFF;
    }

    /** Bytes that differ from sector to sector and from one seed to another. */
    private static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + (i >> 9) * 7 + seed);
        }
        return bytes;
    }
}
