package io.jvfio.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.devices.testdevice.TestDeviceRegisters;
import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.platform.devicetree.FdtWriter;
import io.jvfio.platform.devicetree.PlatformBusTree;
import io.jvfio.platform.irq.IrqController;
import io.jvfio.platform.irq.IrqState;
import io.jvfio.sys.testing.CapturedLog;
import io.jvfio.sys.testing.Tiers;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfio.VfioException;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Realize, reset, refusal and the guest device tree, on a real KVM machine. */
@Tag(Tiers.KVM)
@Tag(Tiers.PROCESS)
class PlatformLifecycleKvmTest {
    private static final String REPLY_TIMEOUT = ",x-reply-timeout-ms=120000";
    private static final long RAISE = 0x018;
    /** The served test devices' line 1, which is level (automasked by VFIO when it fires). */
    private static final int LEVEL_LINE = 1;

    private static final long DMA_DONE = TestDeviceRegisters.DMA_DONE;
    private static final long DMA_ERROR = TestDeviceRegisters.DMA_ERROR;
    /** Registers that read as zero and take writes, for models that exist to be refused or warned about. */
    private static final RegionHandler NO_REGISTERS = new RegionHandler() {
        @Override
        public long read(long offset, int size) {
            return 0;
        }

        @Override
        public void write(long offset, int size, long value) {}
    };

    @TempDir
    static Path directory;

    private static ServedTestDevice first;
    private static ServedTestDevice second;

    @BeforeAll
    static void serveTwoTestDevices() throws Exception {
        Tiers.assumeKvm();
        Files.createDirectories(directory.resolve("a"));
        Files.createDirectories(directory.resolve("b"));
        first = ServedTestDevice.start(directory.resolve("a"), 2);
        second = ServedTestDevice.start(directory.resolve("b"), 1);
    }

    @AfterAll
    static void stopServing() throws Exception {
        if (first != null) {
            first.close();
        }
        if (second != null) {
            second.close();
        }
    }

    private static MachineConfig spin() throws IOException {
        return MachineConfig.builder().guest("spin").build();
    }

    private static PlatformDeviceConfig config(ServedTestDevice served, String properties) {
        return DeviceSpecParser.parse("vfio-platform,socket=" + served.socket() + REPLY_TIMEOUT + properties);
    }

    /** What realizing the first served device with {@code properties} logged, and the regions it placed. */
    private record Realized(List<String> logged, List<VfioPlatformDevice.PlacedRegion> regions) {}

    private static Realized realize(String properties) throws Exception {
        PlatformDeviceConfig config = config(first, properties);
        try (CapturedLog logged = new CapturedLog(VfioPlatformDevice.class);
                AssignedMachine assembly = AssignedMachine.create(spin(), List.of(config))) {
            return new Realized(logged.messages(), assembly.devices().getFirst().regions());
        }
    }

    @Test
    void aRegionThatNeverOfferedMmapIsTrappedWithoutAWarning() throws Exception {
        Realized realized = realize("");
        assertThat(realized.regions().get(0).fastPath())
                .as("the registers offer no mmap")
                .isFalse();
        assertThat(realized.regions().get(1).fastPath()).isTrue();
        assertThat(realized.logged()).noneMatch(message -> message.contains("performance may be slow"));
    }

    @Test
    void xNoMmapTrapsAMappableRegionAndSaysSoWithoutAWarning() throws Exception {
        Realized realized = realize(",x-no-mmap=on");
        assertThat(realized.regions()).noneMatch(VfioPlatformDevice.PlacedRegion::fastPath);
        assertThat(realized.logged())
                .noneMatch(message -> message.contains("performance may be slow"))
                .filteredOn(message -> message.contains("region"))
                .containsExactly(
                        "vfio test-device.sock: region 1 is trapped (x-no-mmap): every guest access exits to jvfio");
    }

    @Test
    void aRegionThatOffersMmapOnlyWhereNoPageFitsIsTrappedWithTheWarning() throws Exception {
        Path socket = directory.resolve("unaligned.sock");
        DeviceModel unaligned =
                () -> List.of(RegionSpec.sparse(0, 8192, List.of(new SparseArea(0x100, 0x200)), NO_REGISTERS));
        PlatformDeviceConfig config =
                DeviceSpecParser.parse("vfio-platform,socket=" + socket + ",compat=vendor,,unaligned,id=unaligned0");
        try (VfioUserServer server = VfioUserServer.start(socket, unaligned);
                CapturedLog logged = new CapturedLog(VfioPlatformDevice.class);
                AssignedMachine assembly = AssignedMachine.create(spin(), List.of(config))) {
            assertThat(assembly.devices().getFirst().regions().getFirst().fastPath())
                    .isFalse();
            assertThat(logged.messages())
                    .filteredOn(message -> message.contains("region"))
                    .containsExactly("vfio unaligned0: region 0 offers mmap but no page-aligned area of it: every guest"
                            + " access will trap, performance may be slow");
        }
    }

    @Test
    void resetWhileAnIrqIsActiveReturnsItToInactiveWithTheFastPathOn() throws Exception {
        PlatformDeviceConfig config = config(first, ",x-irqfd=off,id=resettable");
        try (AssignedMachine assembly = AssignedMachine.create(spin(), List.of(config))) {
            Machine machine = assembly.machine();
            VfioPlatformDevice device = assembly.devices().getFirst();
            machine.start();
            IrqController controller = device.irqController().orElseThrow();
            raiseUntilActive(machine, device, 0, "the spinning guest never acknowledges");
            assertThat(controller.fastPathEnabled()).isFalse();
            ObjectName bean = new ObjectName("io.jvfio:type=VfioPlatformDevice,name=" + ObjectName.quote("resettable"));
            assertThat(ManagementFactory.getPlatformMBeanServer().getAttribute(bean, "Injections"))
                    .isEqualTo(1L);

            device.reset();

            assertThat(controller.state(0)).isEqualTo(IrqState.INACTIVE);
            assertThat(controller.fastPathEnabled()).isTrue();
            assertThat(controller.pendingQueue()).isEmpty();
            assertThat(controller.counters(0).eois()).as("reset is not an EOI").isZero();

            assertThatThrownBy(device::migrate)
                    .isInstanceOf(VfioException.class)
                    .hasMessage(
                            "vfio resettable: migration is not supported: a VFIO platform device's state cannot be saved");
            assertThatThrownBy(() -> VfioPlatformDevice.hotReset(List.of(device)))
                    .isInstanceOf(VfioException.class)
                    .hasMessageContaining("multi-device hot reset is not supported for platform devices");
            raiseUntilActive(machine, device, 0, "the refusals changed nothing: the device still interrupts");
        }
    }

    /**
     * A level IRQ the guest never ended is masked at the device (VFIO's automask), and neither the device's
     * reset nor a guest that boots again ends it: the machine reset unmasks it, or the line would be dead.
     */
    @Test
    void resetWhileALevelIrqIsActiveUnmasksItSoTheDeviceInterruptsAgain() throws Exception {
        PlatformDeviceConfig config = config(first, ",x-irqfd=off");
        try (AssignedMachine assembly = AssignedMachine.create(spin(), List.of(config))) {
            Machine machine = assembly.machine();
            VfioPlatformDevice device = assembly.devices().getFirst();
            machine.start();
            IrqController controller = device.irqController().orElseThrow();
            raiseUntilActive(machine, device, LEVEL_LINE, "raised before the reset");

            device.reset();
            assertThat(controller.counters(LEVEL_LINE).unmasks()).isEqualTo(1);

            raiseUntilActive(machine, device, LEVEL_LINE, "raised again after the reset");
            assertThat(controller.counters(LEVEL_LINE).injections()).isEqualTo(2);
        }
    }

    /**
     * Closing a device ends its injections: its lines go low for the GSIs' next owner, and its mmap timer
     * cannot map a closed region back.
     */
    @Test
    void closingADeviceWithAnIrqActiveEndsIt() throws Exception {
        PlatformDeviceConfig config = config(first, ",x-irqfd=off");
        try (AssignedMachine assembly = AssignedMachine.create(spin(), List.of(config))) {
            Machine machine = assembly.machine();
            VfioPlatformDevice device = assembly.devices().getFirst();
            machine.start();
            IrqController controller = device.irqController().orElseThrow();
            raiseUntilActive(machine, device, LEVEL_LINE, "the spinning guest never acknowledges");

            device.close();

            assertThat(controller.state(LEVEL_LINE)).isEqualTo(IrqState.INACTIVE);
            assertThat(controller.counters(LEVEL_LINE).endedByReset()).isEqualTo(1);
            assertThat(controller.fastPathEnabled())
                    .as("left off with the regions gone")
                    .isFalse();
        }
    }

    /**
     * Has the test device raise IRQ {@code irq} (a write from the host: the spinning guest never touches
     * the device) and waits up to 2 minutes (the nested guest is slow) until the state machine injected it.
     */
    private static void raiseUntilActive(Machine machine, VfioPlatformDevice device, int irq, String why)
            throws InterruptedException {
        machine.mmio().write(device.regions().getFirst().guestBase() + RAISE, 4, 1L << irq);
        IrqController controller = device.irqController().orElseThrow();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (controller.state(irq) != IrqState.ACTIVE && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(controller.state(irq)).as(why).isEqualTo(IrqState.ACTIVE);
    }

    @Test
    void aPciDeviceIsRefusedAsNotAPlatformDevice() throws Exception {
        Path socket = directory.resolve("pci.sock");
        DeviceModel pci = new DeviceModel() {
            @Override
            public int deviceFlags() {
                return DeviceInfo.FLAG_PCI;
            }

            @Override
            public List<RegionSpec> regions() {
                return List.of(RegionSpec.callbacks(0, 4096, NO_REGISTERS));
            }
        };
        PlatformDeviceConfig config =
                DeviceSpecParser.parse("vfio-platform,socket=" + socket + ",compat=vendor,,pci-thing,id=pci0");
        String refusal = "vfio pci0: not a platform device (flags PCI): only VFIO platform devices can be assigned";
        try (VfioUserServer server = VfioUserServer.start(socket, pci);
                DeviceOpener opener = new DeviceOpener();
                Machine machine = Machine.create(spin())) {
            var machineOwnRanges = machine.mmio().ranges();
            assertThatThrownBy(() -> VfioPlatformDevice.realize(machine, config, opener.open(config)))
                    .isInstanceOf(VfioException.class)
                    .hasMessage(refusal);
            assertThat(machine.mmio().ranges())
                    .as("nothing was left on the bus")
                    .isEqualTo(machineOwnRanges);
            assertThatThrownBy(() ->
                            AssignedMachine.create(spin(), List.of(config)).close())
                    .as("the assembly refuses it before creating a machine")
                    .isInstanceOf(VfioException.class)
                    .hasMessage(refusal);
        }
    }

    @Test
    void aClosedDeviceReturnsItsWindowAndGsisSoTheNextDeviceGetsTheSame() throws Exception {
        PlatformDeviceConfig config = config(first, "");
        try (DeviceOpener opener = new DeviceOpener();
                Machine machine = Machine.create(spin())) {
            List<Long> bases;
            List<Integer> gsis;
            try (VfioPlatformDevice removed = VfioPlatformDevice.realize(machine, config, opener.open(config))) {
                bases = removed.regions().stream()
                        .map(VfioPlatformDevice.PlacedRegion::guestBase)
                        .toList();
                gsis = removed.irqs().stream()
                        .map(VfioPlatformDevice.WiredIrq::gsi)
                        .toList();
            }
            assertThat(machine.mmio().ranges())
                    .as("the closed device's ranges left the bus")
                    .noneMatch(range -> bases.contains(range.base()));
            assertThat(machine.devices())
                    .as("the boot info must not describe a window the next device gets")
                    .isEmpty();
            assertThat(machine.acpiDevices())
                    .as("nor the DSDT")
                    .noneMatch(d -> d.name().startsWith("VF"));

            try (VfioPlatformDevice next = VfioPlatformDevice.realize(machine, config, opener.open(config))) {
                assertThat(next.regions())
                        .extracting(VfioPlatformDevice.PlacedRegion::guestBase)
                        .isEqualTo(bases);
                assertThat(next.irqs())
                        .extracting(VfioPlatformDevice.WiredIrq::gsi)
                        .isEqualTo(gsis);
                assertThat(machine.devices()).hasSize(1);
                assertThat(next.acpiDevice().name()).isEqualTo("VF00");
                assertThat(next.acpiDevice().uid()).isZero();
                assertThat(machine.acpiDevices()).contains(next.acpiDevice());
            }
        }
    }

    @Test
    void theGuestDeviceTreeOfTwoDevicesDecodesWithDtc() throws Exception {
        Path dtb = directory.resolve("two.dtb");
        PlatformDeviceConfig configA = config(first, ",id=dev-a");
        PlatformDeviceConfig configB = config(second, ",id=dev-b");
        try (AssignedMachine assembly = AssignedMachine.create(spin(), List.of(configA, configB))) {
            VfioPlatformDevice a = assembly.devices().get(0);
            VfioPlatformDevice b = assembly.devices().get(1);
            PlatformBusTree tree = PlatformBusTree.create(
                    PlatformBusTree.DEFAULT_MODEL, new PlatformBusTree.MmioRange(0xD000_0000L, 0x1000_0000L));
            a.addTo(tree);
            b.addTo(tree);
            Files.write(dtb, FdtWriter.write(tree.build()));
            Process dtc = new ProcessBuilder("dtc", "-I", "dtb", "-O", "dts", dtb.toString())
                    .redirectErrorStream(true)
                    .start();
            String dts = new String(dtc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(dtc.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(dtc.exitValue()).as(dts).isZero();
            long aBase = a.regions().getFirst().guestBase();
            long bBase = b.regions().getFirst().guestBase();
            assertThat(dts)
                    .contains("dev-a@" + Long.toHexString(aBase) + " {", "dev-b@" + Long.toHexString(bBase) + " {");
            assertThat(dts.split("compatible = \"jvfio,test-device\";", -1)).hasSize(3);
            int aGsi0 = a.irqs().get(0).gsi();
            int aGsi1 = a.irqs().get(1).gsi();
            assertThat(dts).contains(String.format("interrupts = <0x%x 0x00 0x%x 0x02>;", aGsi0, aGsi1));
            assertThat(dts)
                    .contains(String.format(
                            "reg = <0x00 0x%x 0x00 0x1000 0x00 0x%x 0x00 0x10000>;",
                            aBase, a.regions().get(1).guestBase()));
        }
    }

    @Test
    void aUsersNodeFromXDtNodeIsPatchedWithWhereTheDeviceWasPlaced() throws Exception {
        Path dts = directory.resolve("thing.dts");
        Path overlay = directory.resolve("thing.dtb");
        Files.writeString(dts, """
                /dts-v1/;
                / {
                    compatible = "vendor,board-thing";
                    reg = <0x0 0x1234 0x0 0x10>;
                    clock-frequency = <100000000>;
                    port {
                        vendor,internal;
                    };
                };
                """);
        dtc("-q", "-I", "dts", "-O", "dtb", "-o", overlay.toString(), dts.toString());
        PlatformDeviceConfig config = config(first, ",id=thing,x-dt-node=" + overlay);
        try (AssignedMachine assembly = AssignedMachine.create(spin(), List.of(config))) {
            VfioPlatformDevice device = assembly.devices().getFirst();
            PlatformBusTree tree = PlatformBusTree.create(
                    PlatformBusTree.DEFAULT_MODEL, new PlatformBusTree.MmioRange(0xD000_0000L, 0x1000_0000L));
            device.addTo(tree);
            Path dtb = directory.resolve("patched.dtb");
            Files.write(dtb, FdtWriter.write(tree.build()));
            String decoded = dtc("-I", "dtb", "-O", "dts", dtb.toString());
            long base = device.regions().getFirst().guestBase();
            assertThat(decoded)
                    .contains(
                            "thing@" + Long.toHexString(base) + " {",
                            "compatible = \"vendor,board-thing\";",
                            "clock-frequency = <0x5f5e100>;",
                            "port {",
                            "vendor,internal;",
                            String.format(
                                    "reg = <0x00 0x%x 0x00 0x1000 0x00 0x%x 0x00 0x10000>;",
                                    base, device.regions().get(1).guestBase()),
                            String.format(
                                    "interrupts = <0x%x 0x00 0x%x 0x02>;",
                                    device.irqs().get(0).gsi(),
                                    device.irqs().get(1).gsi()));
            assertThat(decoded).doesNotContain("0x1234");
        }
    }

    @Test
    void anXDtNodeThatIsNotADeviceTreeIsRefusedNamingTheProperty() throws Exception {
        Path notATree = Files.writeString(directory.resolve("not-a-tree.dtb"), "hello");
        PlatformDeviceConfig config = config(first, ",x-dt-node=" + notATree);
        assertThatThrownBy(() -> AssignedMachine.create(spin(), List.of(config)).close())
                .isInstanceOf(VfioException.class)
                .hasMessageContaining("property 'x-dt-node'")
                .hasMessageContaining(notATree.toString());
    }

    /** Runs dtc; returns its output, or fails the test with it. */
    private static String dtc(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("dtc"));
        command.addAll(List.of(args));
        Process dtc = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(dtc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(dtc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(dtc.exitValue()).as(output).isZero();
        return output;
    }

    @Test
    void theDeviceCanDmaGuestRamAndNothingElse() throws Exception {
        PlatformDeviceConfig config = config(first, ",id=dma");
        try (AssignedMachine assembly = AssignedMachine.create(spin(), List.of(config))) {
            Machine machine = assembly.machine();
            VfioPlatformDevice device = assembly.devices().getFirst();
            long registers = device.regions().getFirst().guestBase();
            byte[] pattern = "guest RAM, DMA'd".getBytes(StandardCharsets.US_ASCII);
            long source = 0x20_0000L;
            machine.ram().write(source, pattern);

            assertThat(dma(machine, registers, source, 0x20_1000L, pattern.length))
                    .as("RAM to RAM")
                    .isEqualTo(DMA_DONE);
            assertThat(machine.ram().read(0x20_1000L, pattern.length)).isEqualTo(pattern);
            assertThat(dma(machine, registers, registers, 0x20_2000L, 16))
                    .as("from the device's own MMIO window")
                    .isEqualTo(DMA_ERROR);
            assertThat(dma(machine, registers, machine.ram().size() - 8, 0x20_2000L, 16))
                    .as("across RAM's end")
                    .isEqualTo(DMA_ERROR);
            assertThat(dma(machine, registers, source, machine.ram().size(), 16))
                    .as("to just past RAM")
                    .isEqualTo(DMA_ERROR);
            assertThat(machine.ram().read(0x20_2000L, 16))
                    .as("a refused source writes nothing")
                    .containsOnly(0);
        }
    }

    /** Runs one test-device DMA between guest-physical addresses (IOVA = guest physical); returns DMA_STATUS. */
    private static long dma(Machine machine, long registers, long source, long destination, int length) {
        machine.mmio().write(registers + TestDeviceRegisters.DMA_SRC, 8, source);
        machine.mmio().write(registers + TestDeviceRegisters.DMA_DST, 8, destination);
        machine.mmio().write(registers + TestDeviceRegisters.DMA_LEN, 4, length);
        machine.mmio().write(registers + TestDeviceRegisters.DMA_CTRL, 4, TestDeviceRegisters.DMA_START);
        return machine.mmio().read(registers + TestDeviceRegisters.DMA_STATUS, 4);
    }
}
