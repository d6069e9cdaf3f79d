package io.jvfio.vfio.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.Poller;
import io.jvfio.sys.testing.Resources;
import io.jvfio.sys.testing.Tiers;
import io.jvfio.sys.vfio.VfioAbi;
import io.jvfio.sys.vfio.VfioIoctls;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IommufdMode;
import io.jvfio.vfio.IrqAction;
import io.jvfio.vfio.IrqInfo;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.kernel.DiscoveryException.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The kernel backend against a real device: QEMU's {@code edu} PCI device bound to vfio-pci (as
 * {@code tools/nested/run.sh} provides it, or on any host that has one). The device's PCI address comes
 * from {@code -Djvfio.vfio.device=0000:00:01.0} or {@code JVFIO_EDU_BDF}. edu's registers (QEMU
 * docs/specs/edu.rst): 0x00 ID, 0x04 liveness (reads back inverted), 0x08 factorial, 0x20 status,
 * 0x24 IRQ status, 0x60 raise IRQ, 0x64 ack IRQ, 0x80/0x88/0x90/0x98 DMA source, destination, count,
 * command; its DMA buffer is at 0x40000 in device space. Each test opens the device afresh.
 */
@Tag(Tiers.VFIO)
class EduVfioTest {
    private static final int BAR0 = VfioAbi.VFIO_PCI_BAR0_REGION_INDEX;
    private static final int CONFIG = VfioAbi.VFIO_PCI_CONFIG_REGION_INDEX;
    private static final int EDU_ID = 0x00;
    private static final int EDU_LIVENESS = 0x04;
    private static final int EDU_FACTORIAL = 0x08;
    private static final int EDU_STATUS = 0x20;
    private static final int EDU_IRQ_STATUS = 0x24;
    private static final int EDU_IRQ_RAISE = 0x60;
    private static final int EDU_IRQ_ACK = 0x64;
    private static final int EDU_DMA_SRC = 0x80;
    private static final int EDU_DMA_DST = 0x88;
    private static final int EDU_DMA_COUNT = 0x90;
    private static final int EDU_DMA_CMD = 0x98;
    private static final long EDU_BUFFER = 0x40000;
    private static final int DMA_START = 1;
    private static final int DMA_TO_RAM = 2;
    /** edu drives 28 address bits: the IOVAs stay low. */
    private static final long IOVA = 0x100000;

    private static final int IRQ_TIMEOUT_MS = 3000;

    private String address;
    private KernelVfio vfio;
    private KernelVfioDevice edu;

    @BeforeEach
    void open() throws Exception {
        Tiers.assumeVfio();
        address = System.getProperty("jvfio.vfio.device", System.getenv("JVFIO_EDU_BDF"));
        if (address == null || address.isBlank()) {
            System.err.println(
                    "SKIPPED (tier vfio): no device given (-Djvfio.vfio.device=PCI-ADDRESS or JVFIO_EDU_BDF)");
        }
        Assumptions.assumeTrue(address != null && !address.isBlank(), "no edu device given");
        vfio = KernelVfio.create();
        edu = vfio.openHost("pci", address);
    }

    @AfterEach
    void close() {
        if (vfio != null) {
            vfio.close();
        }
    }

    private int group() {
        return edu.sysfs().iommuGroup();
    }

    @Test
    void containerSpeaksApiVersionZeroWithType1Extensions() throws Exception {
        try (Fd container = Fd.openReadWrite("/dev/vfio/vfio")) {
            assertThat(VfioIoctls.getApiVersion(container)).isEqualTo(VfioAbi.VFIO_API_VERSION);
            assertThat(VfioIoctls.checkExtension(container, VfioAbi.VFIO_TYPE1_IOMMU))
                    .isPositive();
            assertThat(VfioIoctls.checkExtension(container, VfioAbi.VFIO_TYPE1v2_IOMMU))
                    .isPositive();
        }
    }

    @Test
    void groupIsViableAndInATypeOneContainer() throws Exception {
        assertThat(edu.backend()).isEqualTo(KernelVfio.Backend.LEGACY_CONTAINER);
        assertThat(edu.dmaSpace()).isEqualTo("type1v2 container");
        assertThat(edu.iommuGroup()).isEqualTo(group());
        vfio.close();
        try (Fd group = Fd.openReadWrite("/dev/vfio/" + group())) {
            int status = VfioIoctls.groupGetStatus(group);
            assertThat(status & VfioAbi.VFIO_GROUP_FLAGS_VIABLE).isNotZero();
            assertThat(status & VfioAbi.VFIO_GROUP_FLAGS_CONTAINER_SET).isZero();
        }
    }

    @Test
    void deviceIsPciWithItsRegionsAndIrqIndexes() throws Exception {
        DeviceInfo info = edu.info();

        assertThat(info.isPci()).isTrue();
        assertThat(info.isPlatform()).isFalse();
        assertThat(info.regionCount()).isGreaterThanOrEqualTo(VfioAbi.VFIO_PCI_CONFIG_REGION_INDEX + 1);
        assertThat(info.irqCount()).isGreaterThanOrEqualTo(VfioAbi.VFIO_PCI_MSI_IRQ_INDEX + 1);
        assertThat(edu.deviceTreeIdentity()).isEmpty();
    }

    @Test
    void everyRegionReportsItsInfo() throws Exception {
        for (int i = 0; i < edu.info().regionCount(); i++) {
            if (i == VfioAbi.VFIO_PCI_VGA_REGION_INDEX) {
                // vfio-pci answers EINVAL for the VGA region of a device that is not a VGA device.
                assertThatThrownBy(() -> edu.regionInfo(VfioAbi.VFIO_PCI_VGA_REGION_INDEX))
                        .hasMessage(
                                "vfio " + address + ": failed to get region 8 info: VFIO_DEVICE_GET_REGION_INFO failed:"
                                        + " Invalid argument (EINVAL)");
                continue;
            }
            RegionInfo region = edu.regionInfo(i);
            System.out.printf(
                    "region %d: size 0x%x offset 0x%x flags %s sparse %s caps %d%n",
                    i,
                    region.size(),
                    region.offset(),
                    region.flagNames(),
                    region.sparseAreas(),
                    region.otherCapabilities().size());
            assertThat(region.index()).isEqualTo(i);
        }
        RegionInfo bar0 = edu.regionInfo(BAR0);
        assertThat(bar0.size()).isEqualTo(0x100000);
        assertThat(bar0.readable() && bar0.writable() && bar0.mappable()).isTrue();
        RegionInfo config = edu.regionInfo(CONFIG);
        assertThat(config.size()).isGreaterThanOrEqualTo(256);
        assertThat(config.readable() && config.writable()).isTrue();
        assertThat(edu.regionInfo(1).size()).as("edu has only BAR0").isZero();
    }

    @Test
    void regionInfoIsKeptPerIndexAndIndexesPastTheCountAreRefusedWithIt() throws Exception {
        int count = edu.info().regionCount();
        assertThat(edu.regionInfo(BAR0)).isSameAs(edu.regionInfo(BAR0));
        for (int index : new int[] {-1, count, Integer.MAX_VALUE}) {
            assertThatThrownBy(() -> edu.regionInfo(index))
                    .hasMessage("vfio " + address + ": no region " + index + " (the device has " + count + ")");
        }
    }

    @Test
    void irqIndexesReportIntxAndMsi() throws Exception {
        IrqInfo intx = edu.irqInfo(VfioAbi.VFIO_PCI_INTX_IRQ_INDEX);
        IrqInfo msi = edu.irqInfo(VfioAbi.VFIO_PCI_MSI_IRQ_INDEX);

        assertThat(intx.count()).isEqualTo(1);
        assertThat(intx.supportsEventfd() && intx.maskable() && intx.automasked())
                .isTrue();
        assertThat(msi.count()).isEqualTo(1);
        assertThat(msi.supportsEventfd()).isTrue();
    }

    @Test
    void configSpaceReadsAsBytesWithEdusIds() throws Exception {
        byte[] header = new byte[64];
        edu.read(CONFIG, 0, header);

        assertThat((header[0] & 0xff) | (header[1] & 0xff) << 8).as("vendor").isEqualTo(0x1234);
        assertThat((header[2] & 0xff) | (header[3] & 0xff) << 8).as("device").isEqualTo(0x11e8);
        assertThat(edu.read(CONFIG, 0, 2)).isEqualTo(0x1234);
    }

    @Test
    void bar0RegistersWorkThroughPreadAndPwrite() throws Exception {
        assertThat(edu.read(BAR0, EDU_ID, 4) & 0xff).isEqualTo(0xed);

        edu.write(BAR0, EDU_LIVENESS, 4, 0x12345678);
        assertThat(edu.read(BAR0, EDU_LIVENESS, 4)).isEqualTo(~0x12345678L & 0xffffffffL);

        edu.write(BAR0, EDU_FACTORIAL, 4, 5);
        waitUntil(() -> (edu.read(BAR0, EDU_STATUS, 4) & 1) == 0, "factorial done");
        assertThat(edu.read(BAR0, EDU_FACTORIAL, 4)).isEqualTo(120);
    }

    @Test
    void bar0RegistersWorkThroughMmap() throws Exception {
        try (Mapping bar0 = edu.map(BAR0, 0, 0x100000)) {
            assertThat(bar0.getInt(EDU_ID)).isEqualTo((int) edu.read(BAR0, EDU_ID, 4));
            bar0.putInt(EDU_LIVENESS, 0x0f0f0f0f);
            assertThat(bar0.getInt(EDU_LIVENESS)).isEqualTo(0xf0f0f0f0);
            assertThat(edu.read(BAR0, EDU_LIVENESS, 4)).isEqualTo(0xf0f0f0f0L);
        }
    }

    @Test
    void accessesOutsideARegionAreRefused() {
        assertThatThrownBy(() -> edu.read(BAR0, 0x100000, 4)).hasMessageContaining("outside region 0");
        assertThatThrownBy(() -> edu.map(BAR0, 0, 0x200000)).hasMessageContaining("not within a mappable area");
        assertThatThrownBy(() -> edu.map(CONFIG, 0, 0x1000)).hasMessageContaining("cannot be mmap'ed");
        assertThatThrownBy(() -> edu.read(1, 0, 4)).hasMessage("vfio " + address + ": region 1 is not readable");
    }

    @Test
    void dmaRoundTripsThroughTheIommu() throws Exception {
        enableBusMaster();
        try (Fd memory = MemFd.create("edu-dma", 0x2000);
                Mapping ram = Mapping.map(memory, 0, 0x2000, true, "edu DMA buffer")) {
            for (int i = 0; i < 0x800; i++) {
                ram.putByte(i, (byte) (i * 7 + 1));
            }
            edu.mapDma(new DmaRegion(IOVA, 0x2000, ram, 0, memory, 0, true, true));

            dma(IOVA, EDU_BUFFER, 0x800, false);
            dma(EDU_BUFFER, IOVA + 0x1000, 0x800, true);

            byte[] sent = new byte[0x800];
            byte[] received = new byte[0x800];
            ram.copyTo(0, sent, 0, 0x800);
            ram.copyTo(0x1000, received, 0, 0x800);
            assertThat(received).isEqualTo(sent);
            edu.unmapDma(IOVA, 0x2000);
        }
    }

    /**
     * tools/nested gives edu a sibling, a second function of its slot, which the kernel puts in its IOMMU
     * group: one group fd and one container serve both, the same guest RAM mapped for both is one kernel
     * mapping (type1 refuses a second with EEXIST), and each device works on without the other.
     */
    @Test
    void twoDevicesOfOneGroupShareItAndItsDmaMapAndOneWorksOnWhenTheOtherCloses() throws Exception {
        String siblingAddress = System.getenv("JVFIO_EDU_SIBLING_BDF");
        Assumptions.assumeTrue(
                siblingAddress != null && !siblingAddress.isBlank(),
                "no second device in edu's group given (JVFIO_EDU_SIBLING_BDF)");
        // With iommufd=auto the held group comes first: the kernel opens no cdev of a device whose group is open.
        KernelVfioDevice sibling = vfio.openSysfsdev(Path.of("/sys/bus/pci/devices", siblingAddress), IommufdMode.AUTO);
        assertThat(sibling.iommuGroup()).isEqualTo(group());
        assertThat(sibling.backend()).isEqualTo(KernelVfio.Backend.LEGACY_CONTAINER);
        assertThat(vfio.openGroups()).isEqualTo(1);
        assertThat(vfio.openContainers()).isEqualTo(1);
        assertThat(sibling.read(BAR0, EDU_ID, 4) & 0xff).isEqualTo(0xed);
        enableBusMaster(sibling);
        try (Fd memory = MemFd.create("edu-dma", 0x2000);
                Mapping ram = Mapping.map(memory, 0, 0x2000, true, "edu DMA buffer")) {
            for (int i = 0; i < 0x800; i++) {
                ram.putByte(i, (byte) (i * 5 + 3));
            }
            DmaRegion region = new DmaRegion(IOVA, 0x2000, ram, 0, memory, 0, true, true);
            edu.mapDma(region);
            sibling.mapDma(region);

            edu.close();
            assertThat(vfio.openGroups()).isEqualTo(1);
            assertThat(vfio.attachedDevices()).containsExactly(siblingAddress);
            dma(sibling, IOVA, EDU_BUFFER, 0x800, false);
            dma(sibling, EDU_BUFFER, IOVA + 0x1000, 0x800, true);

            byte[] sent = new byte[0x800];
            byte[] received = new byte[0x800];
            ram.copyTo(0, sent, 0, 0x800);
            ram.copyTo(0x1000, received, 0, 0x800);
            assertThat(received).isEqualTo(sent);
            sibling.unmapDma(IOVA, 0x2000);
        }
        sibling.close();
        assertThat(vfio.openGroups()).isZero();
        assertThat(vfio.openContainers()).isZero();
    }

    @Test
    void dmaToAnUnmappedAddressIsBlocked() throws Exception {
        enableBusMaster();
        try (Fd memory = MemFd.create("edu-dma", 0x1000);
                Mapping ram = Mapping.map(memory, 0, 0x1000, true, "edu DMA buffer")) {
            ram.fill(0, 0x1000, (byte) 0x5a);
            edu.mapDma(new DmaRegion(IOVA, 0x1000, ram, 0, memory, 0, true, true));
            dma(IOVA, EDU_BUFFER, 0x100, false); // edu's buffer now holds 0x5a bytes
            ram.fill(0, 0x1000, (byte) 0xa5);
            edu.unmapDma(IOVA, 0x1000);

            dma(EDU_BUFFER, IOVA, 0x100, true); // the IOMMU has nothing at IOVA now

            byte[] after = new byte[0x100];
            ram.copyTo(0, after, 0, 0x100);
            assertThat(after).containsOnly((byte) 0xa5);

            // The same DMA with IOVA mapped again does arrive: the one above was blocked, not lost or never made.
            edu.mapDma(new DmaRegion(IOVA, 0x1000, ram, 0, memory, 0, true, true));
            dma(EDU_BUFFER, IOVA, 0x100, true);
            ram.copyTo(0, after, 0, 0x100);
            assertThat(after)
                    .as("edu's buffer, written to RAM once IOVA is mapped")
                    .containsOnly((byte) 0x5a);
            edu.unmapDma(IOVA, 0x1000);
        }
    }

    @Test
    void dmaMapsAreCountedAndReleasedOnClose() throws Exception {
        try (Fd memory = MemFd.create("edu-dma", 0x1000);
                Mapping ram = Mapping.map(memory, 0, 0x1000, true, "edu DMA buffer")) {
            DmaRegion region = new DmaRegion(IOVA, 0x1000, ram, 0, memory, 0, true, true);
            edu.mapDma(region);
            assertThatThrownBy(() -> edu.mapDma(region)).hasMessageContaining("already mapped for this device");
            assertThatThrownBy(() -> edu.unmapDma(IOVA, 0x2000)).hasMessageContaining("no DMA mapping");
            edu.close(); // unmaps what it mapped
            try (KernelVfioDevice again = vfio.openHost("pci", address)) {
                again.mapDma(region); // would fail with EEXIST had the map survived
                again.unmapDma(IOVA, 0x1000);
            }
        }
    }

    @Test
    void anUnmapTheKernelRefusesKeepsTheMappingForALaterUnmap() throws Exception {
        try (Fd memory = MemFd.create("edu-dma", 0x3000);
                Mapping ram = Mapping.map(memory, 0, 0x3000, true, "edu DMA buffer")) {
            DmaRegion region = new DmaRegion(IOVA, 0x2000, ram, 0, memory, 0, true, true);
            edu.mapDma(region);
            Fd container = ((DmaSpace.Type1Container) edu.space()).fd;
            int rw = VfioAbi.VFIO_DMA_MAP_FLAG_READ | VfioAbi.VFIO_DMA_MAP_FLAG_WRITE;
            // Behind the device, a map that the range cuts in two: type1v2 refuses to bisect it.
            VfioIoctls.iommuUnmapDma(container, IOVA, 0x2000);
            VfioIoctls.iommuMapDma(container, rw, ram.address() + 0x1000, IOVA + 0x1000, 0x2000);

            assertThatThrownBy(() -> edu.unmapDma(IOVA, 0x2000))
                    .hasMessage("vfio " + address + ": failed to unmap DMA [0x100000, +0x2000) from the type1v2"
                            + " container: VFIO_IOMMU_UNMAP_DMA failed: Invalid argument (EINVAL)");

            VfioIoctls.iommuUnmapDma(container, IOVA + 0x1000, 0x2000);
            VfioIoctls.iommuMapDma(container, rw, ram.address(), IOVA, 0x2000);
            edu.unmapDma(IOVA, 0x2000); // "no DMA mapping" had the refused unmap forgotten it
            edu.mapDma(region); // EEXIST had the kernel kept it
            edu.unmapDma(IOVA, 0x2000);
        }
    }

    @Test
    void anUnmapOfLessThanAskedNamesTheIoctlAndForgetsTheRange() throws Exception {
        try (Fd memory = MemFd.create("edu-dma", 0x2000);
                Mapping ram = Mapping.map(memory, 0, 0x2000, true, "edu DMA buffer")) {
            DmaRegion region = new DmaRegion(IOVA, 0x2000, ram, 0, memory, 0, true, true);
            edu.mapDma(region);
            Fd container = ((DmaSpace.Type1Container) edu.space()).fd;
            VfioIoctls.iommuUnmapDma(container, IOVA, 0x2000); // behind the device

            assertThatThrownBy(() -> edu.unmapDma(IOVA, 0x2000))
                    .hasMessage("vfio " + address + ": VFIO_IOMMU_UNMAP_DMA of DMA [0x100000, +0x2000) in the"
                            + " type1v2 container unmapped 0x0 bytes, not 0x2000");

            edu.mapDma(region); // "already mapped" had the device kept the range the kernel cleared
            edu.unmapDma(IOVA, 0x2000);
        }
    }

    /**
     * INTx is automasked at delivery: the device's next interrupt, raised after the guest's ack of the first,
     * waits for the unmask (what the eventfd path's unmask at EOI and resamplefd rely on), then comes.
     */
    @Test
    void intxIsAutomaskedAtDeliveryAndTheNextWaitsForTheUnmask() throws Exception {
        try (EventFd trigger = EventFd.create(true)) {
            edu.setIrqs(IrqSet.trigger(VfioAbi.VFIO_PCI_INTX_IRQ_INDEX, 0, Optional.of(trigger)));

            raiseAndAck(trigger, "INTx");
            edu.write(BAR0, EDU_IRQ_RAISE, 4, 1);
            assertThat(Poller.readable(trigger.fd(), 300))
                    .as("the next INTx signalled before the unmask")
                    .isFalse();

            edu.setIrqs(IrqSet.unmask(VfioAbi.VFIO_PCI_INTX_IRQ_INDEX, 0));
            awaitAndAck(trigger, "the next INTx after the unmask");

            edu.setIrqs(IrqSet.disableAll(VfioAbi.VFIO_PCI_INTX_IRQ_INDEX));
        }
    }

    @Test
    void maskedIntxWaitsUntilUnmasked() throws Exception {
        try (EventFd trigger = EventFd.create(true)) {
            int intx = VfioAbi.VFIO_PCI_INTX_IRQ_INDEX;
            edu.setIrqs(IrqSet.trigger(intx, 0, Optional.of(trigger)));
            edu.setIrqs(IrqSet.mask(intx, 0));

            edu.write(BAR0, EDU_IRQ_RAISE, 4, 1);
            assertThat(Poller.readable(trigger.fd(), 300))
                    .as("masked INTx signalled")
                    .isFalse();

            edu.setIrqs(new IrqSet(intx, IrqAction.UNMASK, 0, 1, new IrqSet.Data.Bools(new boolean[] {true})));
            assertThat(Poller.readable(trigger.fd(), IRQ_TIMEOUT_MS))
                    .as("INTx after unmask")
                    .isTrue();
            assertThat(trigger.read()).isPositive();
            edu.write(BAR0, EDU_IRQ_ACK, 4, edu.read(BAR0, EDU_IRQ_STATUS, 4));
            edu.setIrqs(IrqSet.disableAll(intx));
        }
    }

    @Test
    void msiIsDeliveredToAnEventfd() throws Exception {
        enableBusMaster();
        try (EventFd trigger = EventFd.create(true)) {
            edu.setIrqs(IrqSet.trigger(VfioAbi.VFIO_PCI_MSI_IRQ_INDEX, 0, Optional.of(trigger)));

            raiseAndAck(trigger, "MSI");
            raiseAndAck(trigger, "second MSI");

            edu.setIrqs(IrqSet.disableAll(VfioAbi.VFIO_PCI_MSI_IRQ_INDEX));
        }
    }

    @Test
    void resetIsRefusedClearlyWithoutTheResetFlag() throws Exception {
        Assumptions.assumeFalse(edu.info().supportsReset(), "this device supports reset");
        assertThatThrownBy(edu::reset)
                .hasMessage("vfio " + address + ": the device does not support reset (no VFIO_DEVICE_FLAGS_RESET)");
    }

    @Test
    void attachingTheSameDeviceTwiceIsRefused() {
        assertThatThrownBy(() -> vfio.openSysfsdev(Path.of("/sys/bus/pci/devices", address)))
                .isInstanceOfSatisfying(
                        DiscoveryException.class, e -> assertThat(e.problem()).isEqualTo(Problem.ALREADY_ATTACHED))
                .hasMessageContaining("device is already attached");
    }

    @Test
    void aGroupAnotherVmHoldsIsBusyAndTheMessageSaysWhatTheKernelRefusesNotWho() {
        try (KernelVfio other = KernelVfio.create(KernelVfio.Options.defaults().withIommufd(IommufdMode.OFF))) {
            assertThatThrownBy(() -> other.openHost("pci", address))
                    .hasMessageStartingWith("vfio " + address + ": failed to open group " + group()
                            + " (the kernel opens a group once at a time, and not while one of its devices is open"
                            + " through its VFIO cdev: another process, or another VM in this process, has group "
                            + group() + " or one of its devices open): ")
                    .hasMessageEndingWith("(EBUSY)");
        }
    }

    @Test
    void theCdevOfADeviceWhoseGroupAnotherVmHoldsIsBusyAndTheMessageSaysWhy() {
        Assumptions.assumeTrue(edu.backend() == KernelVfio.Backend.LEGACY_CONTAINER, "edu is not in a group");
        Assumptions.assumeTrue(
                Files.exists(Path.of("/dev/iommu")) && edu.sysfs().vfioCdev().isPresent(),
                "no /dev/iommu or no VFIO cdev for edu");
        Path cdev = Path.of("/dev/vfio/devices", edu.sysfs().vfioCdev().get());
        try (KernelVfio other = KernelVfio.create(KernelVfio.Options.defaults().withIommufd(IommufdMode.ON))) {
            assertThatThrownBy(() -> other.openHost("pci", address))
                    .hasMessageStartingWith("vfio " + address + ": failed to open the device cdev " + cdev
                            + " (the kernel opens no device's VFIO cdev while its group is open: another process,"
                            + " or another VM in this process, has group " + group() + " open): ")
                    .hasMessageEndingWith("(EBUSY)");
        }
    }

    @Test
    void closeReleasesDeviceGroupAndContainerAndLeaksNothing() throws Exception {
        edu.close();
        assertThat(vfio.openGroups()).isZero();
        assertThat(vfio.openContainers()).isZero();
        int fds = Resources.openFds();

        for (int i = 0; i < 3; i++) {
            try (KernelVfioDevice again = vfio.openHost("pci", address)) {
                assertThat(vfio.openGroups()).isEqualTo(1);
                assertThat(vfio.openContainers()).isEqualTo(1);
                assertThat(again.read(BAR0, EDU_ID, 4) & 0xff).isEqualTo(0xed);
            }
        }

        assertThat(vfio.openGroups()).isZero();
        assertThat(vfio.openContainers()).isZero();
        assertThat(Resources.openFds()).isEqualTo(fds);
        assertThat(vfio.attachedDevices()).isEmpty();
        assertThat(Files.exists(Path.of("/dev/vfio/" + group()))).isTrue();
    }

    private void enableBusMaster() throws Exception {
        enableBusMaster(edu);
    }

    private static void enableBusMaster(KernelVfioDevice device) throws Exception {
        long command = device.read(CONFIG, 4, 2);
        device.write(CONFIG, 4, 2, command | 0x4);
    }

    private void raiseAndAck(EventFd trigger, String what) throws Exception {
        edu.write(BAR0, EDU_IRQ_RAISE, 4, 1);
        awaitAndAck(trigger, what);
    }

    /** Waits for the interrupt edu raised to signal {@code trigger}, then acks it at the device. */
    private void awaitAndAck(EventFd trigger, String what) throws Exception {
        assertThat(Poller.readable(trigger.fd(), IRQ_TIMEOUT_MS))
                .as(what + " signalled")
                .isTrue();
        assertThat(trigger.read()).isPositive();
        edu.write(BAR0, EDU_IRQ_ACK, 4, edu.read(BAR0, EDU_IRQ_STATUS, 4));
    }

    /** One edu DMA; the registers take 4-byte writes (vfio-pci before 6.10 splits 8-byte ones). */
    private void dma(long source, long destination, int count, boolean toRam) throws Exception {
        dma(edu, source, destination, count, toRam);
    }

    private static void dma(KernelVfioDevice device, long source, long destination, int count, boolean toRam)
            throws Exception {
        device.write(BAR0, EDU_DMA_SRC, 4, source);
        device.write(BAR0, EDU_DMA_DST, 4, destination);
        device.write(BAR0, EDU_DMA_COUNT, 4, count);
        device.write(BAR0, EDU_DMA_CMD, 4, DMA_START | (toRam ? DMA_TO_RAM : 0));
        waitUntil(() -> (device.read(BAR0, EDU_DMA_CMD, 4) & DMA_START) == 0, "DMA done");
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitUntil(Condition condition, String what) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within 5 s");
            }
            Thread.sleep(1);
        }
    }
}
