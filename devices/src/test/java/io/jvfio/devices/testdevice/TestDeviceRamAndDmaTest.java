package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.ServedTestDevice.awaitSignals;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.vfio.DmaRegion;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RAM region (mmap'ed part and trapped doorbell page) and the DMA engine between it and client memory. */
class TestDeviceRamAndDmaTest {
    private static final long GUEST_IOVA = 0x10_0000;
    private static final long GUEST_SIZE = 0x2_0000;

    @TempDir
    Path directory;

    ServedTestDevice served;
    Fd guestFd;
    Mapping guest;
    Mapping ramView;

    @BeforeEach
    void start() throws Exception {
        served = ServedTestDevice.start(directory, 2, 0b10);
        guestFd = MemFd.create("guest", GUEST_SIZE);
        guest = Mapping.map(guestFd, 0, GUEST_SIZE, true, "test guest RAM");
        served.client.mapDma(new DmaRegion(GUEST_IOVA, GUEST_SIZE, guest, 0, guestFd, 0, true, true));
        ramView = served.client.map(RAM_REGION, 0, RAM_MMAP_SIZE);
    }

    @AfterEach
    void stop() throws Exception {
        ramView.close();
        served.close();
        guest.close();
        guestFd.close();
    }

    private Mapping deviceRam() {
        return served.server.context().regionMemory(RAM_REGION);
    }

    private static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + seed);
        }
        return bytes;
    }

    private static byte[] bytes(Mapping mapping, long offset, int length) {
        byte[] bytes = new byte[length];
        mapping.copyTo(offset, bytes, 0, length);
        return bytes;
    }

    private void dma(long source, long destination, int length, int ctrl) throws IOException {
        served.client.write(REGS_REGION, DMA_SRC, 8, source);
        served.client.write(REGS_REGION, DMA_DST, 8, destination);
        served.write(DMA_LEN, length);
        served.write(DMA_CTRL, ctrl);
    }

    @Test
    void clientMappingSeesWhatTheDeviceWritesToRam() {
        deviceRam().putInt(0x1230, 0xCAFEF00D);

        assertThat(ramView.getInt(0x1230)).isEqualTo(0xCAFEF00D);
    }

    @Test
    void deviceSeesWhatTheClientWritesThroughItsMapping() throws Exception {
        ramView.putLong(0xEFF8, 0x0102030405060708L);

        assertThat(deviceRam().getLong(0xEFF8)).isEqualTo(0x0102030405060708L);
        assertThat(served.client.read(RAM_REGION, 0xEFF8, 8)).isEqualTo(0x0102030405060708L);
    }

    @Test
    void trappedPageCannotBeMapped() {
        assertThatThrownBy(() -> served.client.map(RAM_REGION, 0xF000, 0x1000)).isInstanceOf(IOException.class);
    }

    @Test
    void trappedPageIsBackedByTheSameRam() throws Exception {
        served.client.write(RAM_REGION, 0xF100, 4, 0x11223344);
        deviceRam().putInt(0xF200, 0x55667788);

        assertThat(deviceRam().getInt(0xF100)).isEqualTo(0x11223344);
        assertThat(served.client.read(RAM_REGION, 0xF200, 4)).isEqualTo(0x55667788);
    }

    @Test
    void doorbellWritesAreStoredAndCounted() throws Exception {
        served.client.write(RAM_REGION, RAM_DOORBELL, 4, 0xD00BE11);
        served.client.write(RAM_REGION, RAM_DOORBELL, 1, 0x42);

        assertThat(served.client.read(RAM_REGION, RAM_DOORBELL_COUNT, 4)).isEqualTo(2);
        assertThat(served.client.read(RAM_REGION, RAM_DOORBELL, 4)).isEqualTo(0xD00BE42);
        assertThat(served.device.counters().doorbells()).isEqualTo(2);
    }

    @Test
    void writesElsewhereInTheTrappedPageDoNotRingTheDoorbell() throws Exception {
        served.client.write(RAM_REGION, 0xF008, 4, 1);
        served.client.write(RAM_REGION, 0xFFFC, 4, 1);

        assertThat(served.client.read(RAM_REGION, RAM_DOORBELL_COUNT, 4)).isZero();
    }

    @Test
    void doorbellCountIsReadOnly() throws Exception {
        served.client.write(RAM_REGION, RAM_DOORBELL, 4, 7);

        served.client.write(RAM_REGION, RAM_DOORBELL_COUNT, 4, 99);

        assertThat(served.client.read(RAM_REGION, RAM_DOORBELL_COUNT, 4)).isEqualTo(1);
    }

    @Test
    void dmaCopiesClientMemoryIntoDeviceRam() throws Exception {
        byte[] data = pattern(0x800, 3);
        guest.copyFrom(data, 0, 0x100, data.length);

        dma(GUEST_IOVA + 0x100, 0x2000, data.length, DMA_START | DMA_DST_RAM);

        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_DONE);
        assertThat(served.read(DMA_COUNT)).isEqualTo(1);
        assertThat(bytes(ramView, 0x2000, data.length)).isEqualTo(data);
    }

    @Test
    void dmaCopiesDeviceRamIntoClientMemory() throws Exception {
        byte[] data = pattern(0x1000, 9);
        ramView.copyFrom(data, 0, 0x4000, data.length);

        dma(0x4000, GUEST_IOVA + 0x1_0000, data.length, DMA_START | DMA_SRC_RAM);

        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_DONE);
        assertThat(bytes(guest, 0x1_0000, data.length)).isEqualTo(data);
    }

    @Test
    void dmaCopiesBetweenTwoClientAddresses() throws Exception {
        byte[] data = pattern(0x300, 5);
        guest.copyFrom(data, 0, 0x10, data.length);

        dma(GUEST_IOVA + 0x10, GUEST_IOVA + 0x8000, data.length, DMA_START);

        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_DONE);
        assertThat(bytes(guest, 0x8000, data.length)).isEqualTo(data);
    }

    @Test
    void dmaCopiesWithinDeviceRamIncludingTheTrappedPage() throws Exception {
        byte[] data = pattern(0x40, 1);
        ramView.copyFrom(data, 0, 0x100, data.length);

        dma(0x100, 0xF100, data.length, DMA_START | DMA_SRC_RAM | DMA_DST_RAM);

        byte[] copied = new byte[data.length];
        served.client.read(RAM_REGION, 0xF100, copied);
        assertThat(copied).isEqualTo(data);
    }

    @Test
    void dmaOutsideTheClientsMapsFailsWithStatusTwo() throws Exception {
        dma(GUEST_IOVA + GUEST_SIZE - 0x10, 0, 0x20, DMA_START | DMA_DST_RAM);

        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_ERROR);
        assertThat(served.read(DMA_COUNT)).isZero();
        assertThat(served.device.totalCounters().dmaErrors()).isEqualTo(1);
    }

    @Test
    void dmaToAnUnmappedAddressFailsWithStatusTwo() throws Exception {
        dma(0, 0x9000_0000L, 0x10, DMA_START | DMA_SRC_RAM);

        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_ERROR);
    }

    @Test
    void dmaPastTheEndOfRamFailsWithStatusTwo() throws Exception {
        dma(GUEST_IOVA, 0xFF00, 0x200, DMA_START | DMA_DST_RAM);

        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_ERROR);
        assertThat(deviceRam().getInt(0xFF00)).isZero();
    }

    @Test
    void dmaAfterTheClientUnmappedFailsWithStatusTwo() throws Exception {
        served.client.unmapDma(GUEST_IOVA, GUEST_SIZE);

        dma(GUEST_IOVA, 0, 0x10, DMA_START | DMA_DST_RAM);

        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_ERROR);
    }

    @Test
    void dmaRaisesTheLineItNamesWhenDone() throws Exception {
        EventFd trigger = served.trigger(1);

        dma(GUEST_IOVA, 0, 0x100, dmaStartRaising(DMA_DST_RAM, 1));

        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);
        assertThat(served.read(STATUS)).isEqualTo(0b10);
        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_DONE);
    }

    @Test
    void dmaReachesClientMemoryMappedWithoutAnFdThroughDmaMessages() throws Exception {
        long iova = 0x80_0000;
        try (Mapping memory = Mapping.anonymous(0x1000, "client memory without an fd")) {
            served.client.mapDma(new DmaRegion(iova, 0x1000, memory, 0, null, 0, true, true));
            memory.putLong(0x20, 0x1122_3344_5566_7788L);

            dma(iova + 0x20, iova + 0x800, 8, DMA_START);

            assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_DONE);
            assertThat(memory.getLong(0x800)).isEqualTo(0x1122_3344_5566_7788L);
            served.client.unmapDma(iova, 0x1000);
        }
    }

    @Test
    void dmaCtrlWithoutStartDoesNothing() throws Exception {
        dma(GUEST_IOVA, 0, 0x100, DMA_DST_RAM);

        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_IDLE);
        assertThat(served.read(DMA_COUNT)).isZero();
    }
}
