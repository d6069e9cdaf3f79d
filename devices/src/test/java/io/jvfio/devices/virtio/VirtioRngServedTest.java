package io.jvfio.devices.virtio;

import static io.jvfio.devices.virtio.SplitVirtqueue.DESC_F_INDIRECT;
import static io.jvfio.devices.virtio.SplitVirtqueue.DESC_F_NEXT;
import static io.jvfio.devices.virtio.SplitVirtqueue.DESC_F_WRITE;
import static io.jvfio.devices.virtio.VirtioMmioRegisters.*;
import static io.jvfio.devices.virtio.VirtioTestDriver.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.DeviceOptions;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqInfo;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.RegionIoEventFd;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-rng on the virtio-mmio transport through a real vfio-user connection: its rings in a DMA window
 * the client mapped, driven the way Linux's virtio_mmio and virtio-rng drive it.
 */
class VirtioRngServedTest {
    private static final long SEED = 0x5EED;

    @TempDir
    Path directory;

    private VirtioTestDriver driver;

    @BeforeEach
    void serve() throws Exception {
        driver = VirtioTestDriver.start(
                directory, VirtioRng.create(DeviceOptions.defaults().withSeed(SEED)));
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    @Test
    void theClientSeesOneRegionMappableForReadsOnlyOneLevelIrqAndAVirtioMmioIdentityWithItsAck() throws Exception {
        RegionInfo regs = driver.client.regionInfo(VirtioMmioDevice.REGS_REGION);
        IrqInfo irq = driver.client.irqInfo(VirtioMmioDevice.IRQ_INDEX);
        DeviceTreeIdentity identity = driver.client.deviceTreeIdentity().orElseThrow();

        assertThat(regs.size()).isEqualTo(0x1000);
        assertThat(regs.mappableAreas())
                .as("reads may come from the page, every write must reach the device")
                .containsExactly(SparseArea.forReads(0, 0x1000));
        assertThat(irq.automasked()).as("level").isTrue();
        assertThat(identity.compatible()).containsExactly("virtio,mmio");
        assertThat(identity.irqAcks())
                .containsExactly(new DeviceTreeIdentity.IrqAck(0, 0, INTERRUPT_STATUS, 3, INTERRUPT_ACK, 3));
    }

    @Test
    void theRegistersIdentifyAVersion2EntropyDeviceWithOneQueueOf64() throws Exception {
        assertThat(driver.read(MAGIC_VALUE)).isEqualTo(0x74726976);
        assertThat(driver.read(VERSION_REG)).isEqualTo(2);
        assertThat(driver.read(DEVICE_ID)).isEqualTo(4);
        assertThat(driver.read(VENDOR_ID_REG)).isEqualTo(VENDOR_ID);
        driver.write(QUEUE_SEL, 0);
        assertThat(driver.read(QUEUE_NUM_MAX)).isEqualTo(64);
        assertThat(driver.read(QUEUE_READY)).isZero();
        driver.write(QUEUE_SEL, 1);
        assertThat(driver.read(QUEUE_NUM_MAX)).as("no second queue").isZero();
        assertThat(driver.read(CONFIG_GENERATION)).isZero();
    }

    @Test
    void theDeviceOffersVersion1AndIndirectDescriptorsAndKeepsFeaturesOkOnlyWithVersion1() throws Exception {
        assertThat(driver.deviceFeatures()).isEqualTo(FEATURE_VERSION_1 | VirtioMmioDevice.FEATURE_INDIRECT_DESC);

        assertThat(driver.negotiate(0) & STATUS_FEATURES_OK)
                .as("a legacy driver is refused")
                .isZero();
        assertThat(driver.negotiate(FEATURE_VERSION_1 | 1L << 5) & STATUS_FEATURES_OK)
                .as("a feature not offered")
                .isZero();
        assertThat(driver.negotiate(FEATURE_VERSION_1) & STATUS_FEATURES_OK).isEqualTo(STATUS_FEATURES_OK);
    }

    @Test
    void aFeatureBitPastTheOfferedWordsKeepsFeaturesOkOff() throws Exception {
        driver.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        driver.write(DRIVER_FEATURES_SEL, 1);
        driver.write(DRIVER_FEATURES, (int) (FEATURE_VERSION_1 >>> 32));
        driver.write(DRIVER_FEATURES_SEL, 2);
        driver.write(DRIVER_FEATURES, 1);

        driver.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);

        assertThat(driver.read(STATUS) & STATUS_FEATURES_OK)
                .as("bit 64 was never offered")
                .isZero();
        assertThat(driver.negotiate(FEATURE_VERSION_1) & STATUS_FEATURES_OK)
                .as("after a reset")
                .isEqualTo(STATUS_FEATURES_OK);
    }

    @Test
    void driverOkWithoutFeaturesOkMakesTheDeviceNeedAResetAndServesNothing() throws Exception {
        assertThat(driver.negotiate(0) & STATUS_FEATURES_OK).isZero();
        driver.setUpQueue(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 64, DESC_F_WRITE, 0);
        driver.makeAvailable(0);

        driver.driverOk();

        assertNeedsReset();
        assertThat(driver.read(STATUS) & STATUS_DRIVER_OK).isZero();
    }

    @Test
    void aStatusWriteClearsNoBitAndCannotSetNeedsReset() throws Exception {
        driver.startLikeLinux(64);
        int running = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK;

        driver.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);

        assertThat(driver.read(STATUS)).as("FEATURES_OK kept").isEqualTo(running);
        driver.write(STATUS, running | STATUS_NEEDS_RESET);
        assertThat(driver.read(STATUS)).as("DEVICE_NEEDS_RESET is the device's").isEqualTo(running);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 64, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();
        assertThat(driver.usedIndex()).isEqualTo(1);
    }

    @Test
    void aBufferIsFilledWithTheSeededStreamAndUsedWithAnInterrupt() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 64, DESC_F_WRITE, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertThat(driver.awaitInterrupt()).as("the IRQ fired").isTrue();
        assertThat(driver.read(INTERRUPT_STATUS)).isEqualTo(INTERRUPT_USED_BUFFER);
        assertThat(driver.usedIndex()).isEqualTo(1);
        assertThat(driver.used(0)).containsExactly(0, 64);
        assertThat(driver.ramBytes(BUFFERS, 64)).isEqualTo(seededStream(SEED, 64));
    }

    @Test
    void laterBuffersGetTheStreamsNextBytes() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 40, DESC_F_WRITE, 0);
        driver.descriptor(DESCRIPTORS, 1, RAM_IOVA + BUFFERS + 0x100, 24, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();

        driver.makeAvailable(1);
        driver.notifyQueue();

        byte[] stream = seededStream(SEED, 64);
        assertThat(driver.usedIndex()).isEqualTo(2);
        assertThat(driver.used(1)).containsExactly(1, 24);
        assertThat(driver.ramBytes(BUFFERS, 40)).isEqualTo(Arrays.copyOfRange(stream, 0, 40));
        assertThat(driver.ramBytes(BUFFERS + 0x100, 24)).isEqualTo(Arrays.copyOfRange(stream, 40, 64));
    }

    @Test
    void aChainedBufferIsFilledInChainOrder() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 5, RAM_IOVA + BUFFERS + 0x200, 10, DESC_F_WRITE | DESC_F_NEXT, 2);
        driver.descriptor(DESCRIPTORS, 2, RAM_IOVA + BUFFERS, 20, DESC_F_WRITE | DESC_F_NEXT, 9);
        driver.descriptor(DESCRIPTORS, 9, RAM_IOVA + BUFFERS + 0x400, 34, DESC_F_WRITE, 0);

        driver.makeAvailable(5);
        driver.notifyQueue();

        byte[] stream = seededStream(SEED, 64);
        assertThat(driver.used(0)).containsExactly(5, 64);
        assertThat(driver.ramBytes(BUFFERS + 0x200, 10)).isEqualTo(Arrays.copyOfRange(stream, 0, 10));
        assertThat(driver.ramBytes(BUFFERS, 20)).isEqualTo(Arrays.copyOfRange(stream, 10, 30));
        assertThat(driver.ramBytes(BUFFERS + 0x400, 34)).isEqualTo(Arrays.copyOfRange(stream, 30, 64));
    }

    @Test
    void anIndirectTableIsFollowed() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(INDIRECT_TABLE, 0, RAM_IOVA + BUFFERS, 16, DESC_F_WRITE | DESC_F_NEXT, 1);
        driver.descriptor(INDIRECT_TABLE, 1, RAM_IOVA + BUFFERS + 0x100, 16, DESC_F_WRITE, 0);
        driver.descriptor(DESCRIPTORS, 3, RAM_IOVA + INDIRECT_TABLE, 32, DESC_F_INDIRECT, 0);

        driver.makeAvailable(3);
        driver.notifyQueue();

        byte[] stream = seededStream(SEED, 32);
        assertThat(driver.used(0)).containsExactly(3, 32);
        assertThat(driver.ramBytes(BUFFERS, 16)).isEqualTo(Arrays.copyOfRange(stream, 0, 16));
        assertThat(driver.ramBytes(BUFFERS + 0x100, 16)).isEqualTo(Arrays.copyOfRange(stream, 16, 32));
    }

    /** As Linux's virtio_ring makes them, and QEMU's device serves them: see SplitVirtqueue. */
    @Test
    void anIndirectTableLongerThanTheQueueIsFollowed() throws Exception {
        driver.startLikeLinux(2);
        for (int i = 0; i < 8; i++) {
            driver.descriptor(
                    INDIRECT_TABLE,
                    i,
                    RAM_IOVA + BUFFERS + 0x100L * i,
                    4,
                    DESC_F_WRITE | (i < 7 ? DESC_F_NEXT : 0),
                    i + 1);
        }
        driver.descriptor(DESCRIPTORS, 1, RAM_IOVA + INDIRECT_TABLE, 8 * 16, DESC_F_INDIRECT, 0);

        driver.makeAvailable(1);
        driver.notifyQueue();

        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET).isZero();
        assertThat(driver.used(0)).containsExactly(1, 32);
        assertThat(driver.ramBytes(BUFFERS + 0x700, 4)).isEqualTo(Arrays.copyOfRange(seededStream(SEED, 32), 28, 32));
    }

    @Test
    void theAckLowersTheLineSoUnmaskingDoesNotFireAgain() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 8, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();
        assertThat(driver.awaitInterrupt()).isTrue();

        driver.write(INTERRUPT_ACK, driver.read(INTERRUPT_STATUS));
        driver.unmask();

        assertThat(driver.read(INTERRUPT_STATUS)).isZero();
        assertThat(driver.quietFor(100))
                .as("a lowered line does not fire at unmask")
                .isTrue();
        assertThat(driver.device.totals()).containsEntry("line0.raises", 1L).containsEntry("line0.signals", 1L);
    }

    /**
     * The driver reads InterruptStatus and scans the used ring; the device then uses another buffer, its
     * bit already set; the ACK that follows, posted through its ioeventfd, reaches the device that late and
     * must not swallow that buffer's interrupt.
     */
    @Test
    void aBufferUsedWhileTheStatusWasSetIsInterruptedForAgainAtAPostedAck() throws Exception {
        int seen = useASecondBufferAfterTheStatusWasRead();

        List<RegionIoEventFd> offered = driver.client.regionIoEventFds(VirtioMmioDevice.REGS_REGION);
        try {
            offered.stream()
                    .filter(posted -> posted.offset() == INTERRUPT_ACK
                            && posted.datamatch().equals(OptionalLong.of(seen)))
                    .findFirst()
                    .orElseThrow()
                    .eventFd()
                    .signal();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (driver.device.totals().get("line0.raises") < 2 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
        } finally {
            offered.forEach(RegionIoEventFd::close);
        }
        driver.unmask();

        assertThat(driver.device.totals()).containsEntry("line0.raises", 2L);
        assertThat(driver.read(INTERRUPT_STATUS)).isEqualTo(INTERRUPT_USED_BUFFER);
        assertThat(driver.awaitInterrupt())
                .as("raised again for the second buffer")
                .isTrue();
    }

    /**
     * As above, but the ACK traps: the guest waited for it, so its scan after the ACK sees the second
     * buffer, and raising the line again would only cost it an interrupt that finds nothing.
     */
    @Test
    void aTrappedAckOfABitSignalledAgainRaisesNoExtraInterrupt() throws Exception {
        int seen = useASecondBufferAfterTheStatusWasRead();

        driver.write(INTERRUPT_ACK, seen);
        driver.unmask();

        assertThat(driver.read(INTERRUPT_STATUS)).isZero();
        assertThat(driver.quietFor(100))
                .as("no interrupt after the trapped ack")
                .isTrue();
        assertThat(driver.device.totals()).containsEntry("line0.raises", 1L);
    }

    /**
     * One buffer used and interrupted for; InterruptStatus read, as the handler does; then a second buffer
     * used while that bit is still set. Returns the status read.
     */
    private int useASecondBufferAfterTheStatusWasRead() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 8, DESC_F_WRITE, 0);
        driver.descriptor(DESCRIPTORS, 1, RAM_IOVA + BUFFERS + 0x100, 8, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();
        assertThat(driver.awaitInterrupt()).isTrue();
        int seen = driver.read(INTERRUPT_STATUS);
        driver.makeAvailable(1);
        driver.notifyQueue();
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (driver.usedIndex() < 2 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(driver.usedIndex()).isEqualTo(2);
        return seen;
    }

    @Test
    void anUnackedInterruptFiresAgainAtUnmask() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 8, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();
        assertThat(driver.awaitInterrupt()).isTrue();

        driver.unmask();

        assertThat(driver.awaitInterrupt())
                .as("the level line is still asserted")
                .isTrue();
    }

    @Test
    void buffersMadeAvailableBeforeDriverOkAreServedAtDriverOk() throws Exception {
        driver.negotiate(FEATURE_VERSION_1);
        driver.setUpQueue(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 16, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();
        assertThat(driver.usedIndex()).as("nothing is used before DRIVER_OK").isZero();

        driver.driverOk();

        assertThat(driver.usedIndex()).isEqualTo(1);
        assertThat(driver.awaitInterrupt()).isTrue();
    }

    @Test
    void noInterruptWhenTheDriverSuppressesIt() throws Exception {
        driver.startLikeLinux(64);
        driver.ram.putShort(DRIVER_RING, (short) SplitVirtqueue.AVAIL_F_NO_INTERRUPT);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 16, DESC_F_WRITE, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertThat(driver.usedIndex()).isEqualTo(1);
        assertThat(driver.quietFor(100)).isTrue();
        assertThat(driver.read(INTERRUPT_STATUS)).isZero();
    }

    @Test
    void aBufferOutsideTheDmaWindowMakesTheDeviceNeedAReset() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + RAM_SIZE - 8, 64, DESC_F_WRITE, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertNeedsReset();
    }

    @Test
    void ringsOutsideTheDmaWindowMakeTheDeviceNeedAReset() throws Exception {
        driver.negotiate(FEATURE_VERSION_1);
        driver.setUpQueue(64, 0x4000_0000L);
        driver.driverOk();
        driver.makeAvailable(0);

        driver.notifyQueue();

        assertNeedsReset();
    }

    @Test
    void aDescriptorLoopMakesTheDeviceNeedAReset() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 8, DESC_F_WRITE | DESC_F_NEXT, 1);
        driver.descriptor(DESCRIPTORS, 1, RAM_IOVA + BUFFERS, 8, DESC_F_WRITE | DESC_F_NEXT, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertNeedsReset();
    }

    @Test
    void aDescriptorTableRunningPastTheEndOfTheAddressSpaceMakesTheDeviceNeedAReset() throws Exception {
        try (Fd lowFd = MemFd.create("guest page 0", 0x1000);
                Mapping low = Mapping.map(lowFd, 0, 0x1000, true, "test guest page 0")) {
            driver.client.mapDma(new DmaRegion(0, 0x1000, low, 0, lowFd, 0, true, true));
            // Descriptor 1 of a table at 2^64 - 16, were its address left to wrap, would be read at 0.
            byte[] descriptor = ByteBuffer.allocate(16)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(RAM_IOVA + BUFFERS)
                    .putInt(16)
                    .putShort((short) DESC_F_WRITE)
                    .array();
            low.copyFrom(descriptor, 0, 0, 16);
            driver.negotiate(FEATURE_VERSION_1);

            driver.setUpQueue(64, -16L);
            driver.driverOk();
            driver.makeAvailable(1);
            driver.notifyQueue();

            assertNeedsReset();
            driver.client.unmapDma(0, 0x1000);
        }
    }

    @Test
    void aDescriptorIndexPastTheTableMakesTheDeviceNeedAReset() throws Exception {
        driver.startLikeLinux(8);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 8, DESC_F_WRITE | DESC_F_NEXT, 8);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertNeedsReset();
    }

    @Test
    void anAvailableIndexFurtherAheadThanTheQueueSizeMakesTheDeviceNeedAReset() throws Exception {
        driver.startLikeLinux(8);

        driver.setAvailableIndex(9);
        driver.notifyQueue();

        assertNeedsReset();
    }

    /** The buffer used before a malformed one still gets its used-buffer interrupt, with the reset's. */
    @Test
    void aBufferUsedBeforeAMalformedOneIsInterruptedForAlongsideTheReset() throws Exception {
        driver.startLikeLinux(8);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 64, DESC_F_WRITE, 0);

        driver.makeAvailable(0);
        driver.makeAvailable(9);
        driver.notifyQueue();

        assertThat(driver.awaitInterrupt()).isTrue();
        assertThat(driver.usedIndex()).isEqualTo(1);
        assertThat(driver.read(INTERRUPT_STATUS)).isEqualTo(INTERRUPT_USED_BUFFER | INTERRUPT_CONFIG_CHANGE);
        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET).isEqualTo(STATUS_NEEDS_RESET);
    }

    @Test
    void aDeviceReadableBufferMakesTheRngNeedAReset() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 8, 0, 0);

        driver.makeAvailable(0);
        driver.notifyQueue();

        assertNeedsReset();
    }

    @Test
    void aQueueSizeThatIsNotAPowerOfTwoMakesTheDeviceNeedAReset() throws Exception {
        driver.negotiate(FEATURE_VERSION_1);

        driver.setUpQueue(48);

        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET).isEqualTo(STATUS_NEEDS_RESET);
        assertThat(driver.read(QUEUE_READY)).isZero();
    }

    @Test
    void writingStatusZeroResetsTheDeviceWhichThenWorksAgain() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + RAM_SIZE, 8, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();
        assertNeedsReset();

        driver.write(STATUS, 0);

        assertThat(driver.read(STATUS)).isZero();
        assertThat(driver.read(INTERRUPT_STATUS)).isZero();
        assertThat(driver.read(QUEUE_READY)).isZero();
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 8, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();
        assertThat(driver.usedIndex()).isEqualTo(1);
        assertThat(driver.device.totals()).containsEntry("device.needs-reset", 1L);
    }

    @Test
    void deviceResetFromTheClientStopsTheQueue() throws Exception {
        driver.startLikeLinux(64);

        driver.client.reset();

        assertThat(driver.read(STATUS)).isZero();
        assertThat(driver.read(QUEUE_READY)).isZero();
        assertThat(driver.device.totals().get("device.resets")).isPositive();
    }

    @Test
    void theNextClientFindsTheDeviceResetWhenTheLastLeft() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + RAM_SIZE, 8, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();
        assertNeedsReset();

        driver.client.close();

        try (VfioUserDevice next = VfioUserDevice.connect(directory.resolve("virtio.sock"))) {
            assertThat(next.read(VirtioMmioDevice.REGS_REGION, STATUS, 4)).isZero();
            assertThat(next.read(VirtioMmioDevice.REGS_REGION, INTERRUPT_STATUS, 4))
                    .isZero();
            assertThat(next.read(VirtioMmioDevice.REGS_REGION, QUEUE_READY, 4)).isZero();
        }
    }

    @Test
    void unalignedAndNarrowRegisterAccessesAreIgnored() throws Exception {
        driver.client.write(VirtioMmioDevice.REGS_REGION, STATUS, 1, STATUS_ACKNOWLEDGE);

        assertThat(driver.client.read(VirtioMmioDevice.REGS_REGION, MAGIC_VALUE + 1, 2))
                .isZero();
        assertThat(driver.read(STATUS)).isZero();
        assertThat(driver.device.totals().get("regs.ignored")).isEqualTo(2L);
    }

    @Test
    void aReadyQueuesSizeAndAddressesAreNotChangedAndTheWritesAreCountedAsIgnored() throws Exception {
        driver.startLikeLinux(64);
        long ignoredBefore = driver.device.totals().get("regs.ignored");

        driver.write(QUEUE_NUM, 8);
        driver.write(QUEUE_DESC_LOW, (int) (RAM_IOVA + INDIRECT_TABLE));
        driver.write(QUEUE_DRIVER_HIGH, 1);
        driver.write(QUEUE_DEVICE_LOW, (int) (RAM_IOVA + BUFFERS));

        assertThat(driver.device.totals().get("regs.ignored") - ignoredBefore).isEqualTo(4L);
        assertThat(driver.read(QUEUE_DESC_LOW)).isEqualTo((int) (RAM_IOVA + DESCRIPTORS));
        assertThat(driver.read(QUEUE_DRIVER_HIGH)).isZero();
        assertThat(driver.read(QUEUE_DEVICE_LOW)).isEqualTo((int) (RAM_IOVA + DEVICE_RING));
        // the queue still has 64 entries: the 9th buffer goes in ring slot 8, not 0 as with 8 entries
        for (int i = 0; i < 9; i++) {
            driver.descriptor(DESCRIPTORS, i, RAM_IOVA + BUFFERS + 0x10L * i, 8, DESC_F_WRITE, 0);
            driver.makeAvailable(i);
        }
        driver.notifyQueue();
        assertThat(driver.usedIndex()).isEqualTo(9);
        assertThat(driver.used(8)).containsExactly(8, 8);
    }

    private void assertNeedsReset() throws Exception {
        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET)
                .as("DEVICE_NEEDS_RESET")
                .isEqualTo(STATUS_NEEDS_RESET);
        assertThat(driver.read(INTERRUPT_STATUS))
                .as("a configuration-change interrupt")
                .isEqualTo(INTERRUPT_CONFIG_CHANGE);
        assertThat(driver.awaitInterrupt()).isTrue();
        assertThat(driver.usedIndex()).as("nothing used").isZero();
        assertThat(driver.device.totals()).containsEntry("device.needs-reset", 1L);
    }
}
