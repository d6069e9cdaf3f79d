package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.IrqInfo;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The register file through the real vfio-user client: fixed values, access sizes, unknown offsets. */
class TestDeviceRegistersTest {
    @TempDir
    Path directory;

    ServedTestDevice served;

    @BeforeEach
    void start() throws Exception {
        served = ServedTestDevice.start(directory, 3, 0b010);
    }

    @AfterEach
    void stop() throws Exception {
        served.close();
    }

    @Test
    void identificationRegistersReadTheirFixedValues() throws Exception {
        assertThat(served.read(ID)).isEqualTo(0x4A564654);
        assertThat(served.read(VERSION)).isEqualTo(0x00010000);
        assertThat(served.read(IRQ_COUNT)).isEqualTo(3);
        assertThat(served.read(TRIGGER_MODE)).isEqualTo(0b010);
    }

    @Test
    void deviceInfoDeclaresAPlatformDeviceWithResetTwoRegionsAndOneIrqIndexPerLine() throws Exception {
        DeviceInfo info = served.client.info();

        assertThat(info.isPlatform()).isTrue();
        assertThat(info.supportsReset()).isTrue();
        assertThat(info.regionCount()).isEqualTo(2);
        assertThat(info.irqCount()).isEqualTo(3);
    }

    @Test
    void levelLinesAreAutomaskedAndEdgeLinesAreNot() throws Exception {
        IrqInfo edge = served.client.irqInfo(0);
        IrqInfo level = served.client.irqInfo(1);

        assertThat(edge.count()).isEqualTo(1);
        assertThat(edge.automasked()).isFalse();
        assertThat(edge.supportsEventfd()).isTrue();
        assertThat(level.count()).isEqualTo(1);
        assertThat(level.automasked()).isTrue();
    }

    @Test
    void registerRegionIsTrappedAndRamRegionIsSparselyMappable() throws Exception {
        RegionInfo regs = served.client.regionInfo(REGS_REGION);
        RegionInfo ram = served.client.regionInfo(RAM_REGION);

        assertThat(regs.size()).isEqualTo(0x1000);
        assertThat(regs.mappable()).isFalse();
        assertThat(regs.readable() && regs.writable()).isTrue();
        assertThat(ram.size()).isEqualTo(0x10000);
        assertThat(ram.mappableAreas()).containsExactly(new SparseArea(0, 0xF000));
    }

    @Test
    void narrowReadsGiveTheRegistersLittleEndianBytes() throws Exception {
        assertThat(served.client.read(REGS_REGION, ID, 1)).isEqualTo(0x54);
        assertThat(served.client.read(REGS_REGION, ID + 1, 1)).isEqualTo(0x46);
        assertThat(served.client.read(REGS_REGION, ID, 2)).isEqualTo(0x4654);
        assertThat(served.client.read(REGS_REGION, ID + 2, 2)).isEqualTo(0x4A56);
    }

    @Test
    void eightByteReadJoinsTwoRegistersLowFirst() throws Exception {
        assertThat(served.client.read(REGS_REGION, ID, 8)).isEqualTo(0x00010000_4A564654L);
    }

    @Test
    void narrowWritesAreIgnored() throws Exception {
        served.client.write(REGS_REGION, line(0, TIMER_PERIOD_US), 2, 0x1234);
        served.client.write(REGS_REGION, line(0, TIMER_PERIOD_US), 1, 0x56);

        assertThat(served.readLine(0, TIMER_PERIOD_US)).isZero();
        assertThat(served.device.ignoredAccesses()).isEqualTo(2);
    }

    @Test
    void unalignedWordWriteIsIgnored() throws Exception {
        served.client.write(REGS_REGION, line(0, TIMER_PERIOD_US) + 2, 4, 0x1234);

        assertThat(served.readLine(0, TIMER_PERIOD_US)).isZero();
    }

    @Test
    void sixtyFourBitRegistersTakeEightByteAndTwoWordWrites() throws Exception {
        served.client.write(REGS_REGION, DMA_SRC, 8, 0x1234_5678_9ABC_DEF0L);
        served.write(DMA_DST, 0x11111111);
        served.write(DMA_DST + 4, 0x22222222);

        assertThat(served.client.read(REGS_REGION, DMA_SRC, 8)).isEqualTo(0x1234_5678_9ABC_DEF0L);
        assertThat(served.read(DMA_SRC + 4)).isEqualTo(0x12345678);
        assertThat(served.client.read(REGS_REGION, DMA_DST, 8)).isEqualTo(0x22222222_11111111L);
    }

    @Test
    void readWriteLineRegistersKeepWhatIsWritten() throws Exception {
        served.writeLine(2, TIMER_PERIOD_US, 123_456);
        served.writeLine(2, TIMER_REMAINING, 7);

        assertThat(served.readLine(2, TIMER_PERIOD_US)).isEqualTo(123_456);
        assertThat(served.readLine(2, TIMER_REMAINING)).isEqualTo(7);
    }

    @Test
    void unknownOffsetsReadZeroAndIgnoreWrites() throws Exception {
        served.write(0x800, 0xFFFF_FFFF);
        served.write(line(3, TIMER_PERIOD_US), 99);

        assertThat(served.read(0x800)).isZero();
        assertThat(served.read(0xFFC)).isZero();
        assertThat(served.read(line(3, TIMER_PERIOD_US)))
                .as("line 3 does not exist")
                .isZero();
    }

    @Test
    void readOnlyRegistersIgnoreWrites() throws Exception {
        served.write(ID, 0);
        served.write(IRQ_COUNT, 8);
        served.write(STATUS, 0xFF);
        served.write(TRIGGER_MODE, 0);
        served.writeLine(0, RAISE_COUNT, 5);
        served.write(DMA_STATUS, 1);

        assertThat(served.read(ID)).isEqualTo(ID_VALUE);
        assertThat(served.read(IRQ_COUNT)).isEqualTo(3);
        assertThat(served.read(STATUS)).isZero();
        assertThat(served.read(TRIGGER_MODE)).isEqualTo(0b010);
        assertThat(served.readLine(0, RAISE_COUNT)).isZero();
        assertThat(served.read(DMA_STATUS)).isZero();
    }

    @Test
    void writeOnlyRegistersReadZero() throws Exception {
        served.write(RAISE, 0b001);

        assertThat(served.read(RAISE)).isZero();
        assertThat(served.read(ACK)).isZero();
        assertThat(served.read(RESET)).isZero();
        assertThat(served.read(DMA_CTRL)).isZero();
    }

    @Test
    void dmaLengthIsClampedToTheRamSize() throws Exception {
        served.write(DMA_LEN, 0x0010_0000);

        assertThat(served.read(DMA_LEN)).isEqualTo((int) RAM_SIZE);
    }

    @Test
    void creationRefusesLineCountsOutsideOneToEightAndMasksBeyondTheLines() {
        assertThatThrownBy(() -> TestDevice.create(0, 0)).hasMessageContaining("--irqs");
        assertThatThrownBy(() -> TestDevice.create(9, 0)).hasMessageContaining("--irqs");
        assertThatThrownBy(() -> TestDevice.create(2, 0b100)).hasMessageContaining("--level-mask");
    }
}
