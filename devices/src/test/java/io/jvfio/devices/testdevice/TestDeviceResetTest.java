package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.ServedTestDevice.assertQuiet;
import static io.jvfio.devices.testdevice.ServedTestDevice.awaitSignals;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.Mapping;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.DeviceTreeIdentity.IrqAck;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reset (DEVICE_RESET and the RESET register) and the device-tree identity. */
class TestDeviceResetTest {
    private static final int LEVEL = 1;

    @TempDir
    Path directory;

    ServedTestDevice served;

    @BeforeEach
    void start() throws Exception {
        served = ServedTestDevice.start(directory, 4, 0b1010);
    }

    @AfterEach
    void stop() throws Exception {
        served.close();
    }

    /** Moves every register away from its reset value. */
    private void dirty() throws Exception {
        for (int line = 0; line < 4; line++) {
            served.writeLine(line, TIMER_PERIOD_US, 10_000_000);
            served.writeLine(line, TIMER_REMAINING, 3);
            served.writeLine(line, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
        }
        served.write(RAISE, 0b1111);
        served.write(ACK, 0b0001);
        for (int line = 0; line < 4; line++) {
            served.writeLine(line, ECHO_REMAINING, 5);
        }
        served.client.write(REGS_REGION, DMA_SRC, 8, 0x1234);
        served.client.write(REGS_REGION, DMA_DST, 8, 0x5678);
        served.write(DMA_LEN, 0x10);
        served.write(DMA_CTRL, DMA_START | DMA_SRC_RAM | DMA_DST_RAM);
        served.client.write(RAM_REGION, 0x10, 4, 0xFFFF_FFFFL);
        served.client.write(RAM_REGION, RAM_DOORBELL, 4, 1);
        assertThat(served.read(DMA_COUNT)).isEqualTo(1);
        assertThat(served.read(STATUS)).isEqualTo(0b1110);
    }

    private void assertResetValues() throws Exception {
        assertThat(served.read(ID)).isEqualTo(ID_VALUE);
        assertThat(served.read(VERSION)).isEqualTo(VERSION_VALUE);
        assertThat(served.read(IRQ_COUNT)).isEqualTo(4);
        assertThat(served.read(TRIGGER_MODE)).isEqualTo(0b1010);
        assertThat(served.read(STATUS)).isZero();
        for (int line = 0; line < 4; line++) {
            assertThat(served.readLine(line, TIMER_PERIOD_US)).isZero();
            assertThat(served.readLine(line, TIMER_CTRL)).isZero();
            assertThat(served.readLine(line, RAISE_COUNT)).isZero();
            assertThat(served.readLine(line, ACK_COUNT)).isZero();
            assertThat(served.readLine(line, TIMER_REMAINING)).isZero();
            assertThat(served.readLine(line, ECHO_REMAINING)).isZero();
        }
        assertThat(served.client.read(REGS_REGION, DMA_SRC, 8)).isZero();
        assertThat(served.client.read(REGS_REGION, DMA_DST, 8)).isZero();
        assertThat(served.read(DMA_LEN)).isZero();
        assertThat(served.read(DMA_STATUS)).isEqualTo(DMA_IDLE);
        assertThat(served.read(DMA_COUNT)).isZero();
        assertThat(served.client.read(RAM_REGION, 0x10, 4)).isZero();
        assertThat(served.client.read(RAM_REGION, RAM_DOORBELL, 4)).isZero();
        assertThat(served.client.read(RAM_REGION, RAM_DOORBELL_COUNT, 4)).isZero();
    }

    @Test
    void deviceResetRestoresEveryDocumentedValue() throws Exception {
        dirty();

        served.client.reset();

        assertResetValues();
        assertThat(served.device.resets()).isEqualTo(1);
    }

    @Test
    void resetRegisterRestoresEveryDocumentedValue() throws Exception {
        dirty();

        served.write(RESET, 1);

        assertResetValues();
    }

    @Test
    void resetRegisterIgnoresValuesWithoutBitZero() throws Exception {
        served.write(RAISE, 0b0001);

        served.write(RESET, 2);

        assertThat(served.read(STATUS)).isEqualTo(1);
    }

    @Test
    void resetZeroesTheMappedRam() throws Exception {
        try (Mapping ram = served.client.map(RAM_REGION, 0, RAM_MMAP_SIZE)) {
            ram.putLong(0x100, -1L);

            served.client.reset();

            assertThat(ram.getLong(0x100)).isZero();
        }
    }

    @Test
    void resetDeassertsLevelLinesSoUnmaskDoesNotFire() throws Exception {
        EventFd trigger = served.trigger(LEVEL);
        served.write(RAISE, 1 << LEVEL);
        assertThat(awaitSignals(trigger, 2000)).isEqualTo(1);

        served.client.reset();
        served.unmask(LEVEL);

        assertQuiet(trigger, 100);
    }

    @Test
    void resetKeepsTotalsSinceCreation() throws Exception {
        served.write(RAISE, 0b0001);

        served.client.reset();

        assertThat(served.device.counters().raises(0)).isZero();
        assertThat(served.device.totalCounters().raises(0)).isEqualTo(1);
        assertThat(served.device.totals()).containsEntry("line0.raises", 1L).containsEntry("device.resets", 1L);
    }

    @Test
    void deviceTreeIdentityNamesTheDeviceAndItsPreciseEoiRegisters() throws Exception {
        Optional<DeviceTreeIdentity> identity = served.client.deviceTreeIdentity();

        assertThat(identity).isPresent();
        assertThat(identity.get().compatible()).containsExactly("jvfio,test-device");
        assertThat(identity.get().properties().get("jvfio,irq-count"))
                .isEqualTo(ByteBuffer.allocate(4).putInt(4).array());
        assertThat(identity.get().properties().get("jvfio,level-mask")).isEqualTo(new byte[] {0, 0, 0, 0b1010});
        assertThat(identity.get().irqAcks())
                .containsExactly(
                        new IrqAck(0, REGS_REGION, 0x10, 0b0001, 0x14, 0b0001),
                        new IrqAck(1, REGS_REGION, 0x10, 0b0010, 0x14, 0b0010),
                        new IrqAck(2, REGS_REGION, 0x10, 0b0100, 0x14, 0b0100),
                        new IrqAck(3, REGS_REGION, 0x10, 0b1000, 0x14, 0b1000));
    }

    @Test
    void ackDescribedByTheIdentityClearsTheStatusItDescribes() throws Exception {
        IrqAck ack = served.client.deviceTreeIdentity().orElseThrow().irqAcks().get(2);
        served.write(RAISE, 0b0100);
        assertThat(served.client.read(ack.region(), ack.statusOffset(), 4) & ack.statusMask())
                .isNotZero();

        served.client.write(ack.region(), ack.ackOffset(), 4, ack.ackMask());

        assertThat(served.client.read(ack.region(), ack.statusOffset(), 4) & ack.statusMask())
                .isZero();
        assertThat(served.device.counters().acks(2)).isEqualTo(1);
    }
}
