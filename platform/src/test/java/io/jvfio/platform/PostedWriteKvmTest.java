package io.jvfio.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.sys.testing.Tiers;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.ModelIrqLine;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.PostedWrite;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A device's posted write through KVM: the served model offers an ioeventfd for its 4-byte write of
 * 0x33333333 at +16 (DEVICE_GET_REGION_IO_FDS), jvfio registers it with KVM at realize, and the {@code mmio}
 * guest's writes there reach the model through the eventfd without a trapped exit, while its other
 * writes and every read still trap. On the user-side IRQ path without precise EOI, a posted write traps
 * like the fast path while an IRQ is ACTIVE, so that a handler whose only access is one ends it.
 */
@Tag(Tiers.KVM)
class PostedWriteKvmTest {
    private static final Duration GUEST_TIMEOUT = Duration.ofMinutes(5);
    private static final int ROUNDS = 20;
    private static final long POSTED_OFFSET = 16;
    private static final long POSTED_VALUE = 0x33333333L;

    @TempDir
    Path directory;

    /** A register file whose write at +16 is posted; it counts how each write at +16 arrived. */
    private static final class PostingModel implements DeviceModel {
        final Map<Long, Long> registers = new ConcurrentHashMap<>();
        final AtomicInteger postedArrivals = new AtomicInteger();
        final AtomicInteger trappedArrivals = new AtomicInteger();
        final AtomicInteger otherValues = new AtomicInteger();

        @Override
        public List<RegionSpec> regions() {
            return List.of(RegionSpec.callbacks(0, 0x1000, new RegionHandler() {
                @Override
                public long read(long offset, int size) {
                    return registers.getOrDefault(offset, 0L);
                }

                @Override
                public void write(long offset, int size, long value) {
                    registers.put(offset, value);
                    if (offset != POSTED_OFFSET) {
                        return;
                    }
                    if (value != POSTED_VALUE) {
                        otherValues.incrementAndGet();
                    }
                    // the connection's thread serves REGION_WRITEs; posted ones come from the server's event loop
                    if (Thread.currentThread().getName().startsWith("vfio-user connection")) {
                        trappedArrivals.incrementAndGet();
                    } else {
                        postedArrivals.incrementAndGet();
                    }
                }
            }));
        }

        @Override
        public List<PostedWrite> postedWrites() {
            return List.of(new PostedWrite(0, POSTED_OFFSET, 4, POSTED_VALUE));
        }
    }

    @Test
    void aPostedWriteReachesTheDeviceWithoutATrappedExit() throws Exception {
        Tiers.assumeKvm();
        Path socket = directory.resolve("posting.sock");
        PostingModel model = new PostingModel();
        PlatformDeviceConfig config = DeviceSpecParser.parse(
                "vfio-platform,socket=" + socket + ",compat=jvfio,,posting-test,x-reply-timeout-ms=120000");
        MachineConfig machineConfig =
                MachineConfig.builder().guest("mmio").args(ROUNDS, 0).build();
        VfioPlatformDevice.PlacedRegion region;
        int code;
        try (VfioUserServer server = VfioUserServer.start(socket, model);
                AssignedMachine assembly = AssignedMachine.create(machineConfig, List.of(config))) {
            assembly.machine().start();
            code = assembly.machine().awaitExit(GUEST_TIMEOUT);
            region = assembly.devices().getFirst().regions().getFirst();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (model.postedArrivals.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        assertThat(code).isZero();
        assertThat(region.postedWrites()).as("the offset KVM posts").containsExactly(POSTED_OFFSET);
        assertThat(region.trappedWrites())
                .as("per round the 1-, 2- and 8-byte writes exit; the posted 4-byte one does not")
                .isEqualTo(3L * ROUNDS);
        assertThat(region.trappedReads()).as("every read still exits").isEqualTo(4L * ROUNDS);
        assertThat(model.trappedArrivals.get())
                .as("no write at +16 came as a REGION_WRITE")
                .isZero();
        assertThat(model.postedArrivals.get())
                .as("the guest's writes at +16 came through the eventfd (signals before the server reads it"
                        + " come as one)")
                .isBetween(1, ROUNDS);
        assertThat(model.otherValues.get()).isZero();
    }

    /**
     * A level IRQ whose only acknowledgement is a posted write of 1 at +16: the write lowers the line and,
     * until {@code wanted} were raised, raises it again (the line is automasked until the client unmasks it).
     */
    private static final class PostedAckModel implements DeviceModel {
        final int wanted;
        final AtomicInteger raised = new AtomicInteger();
        final AtomicInteger trappedAcks = new AtomicInteger();
        final AtomicInteger postedAcks = new AtomicInteger();
        volatile ModelIrqLine line;

        PostedAckModel(int wanted) {
            this.wanted = wanted;
        }

        @Override
        public List<RegionSpec> regions() {
            return List.of(RegionSpec.callbacks(0, 0x1000, new RegionHandler() {
                @Override
                public long read(long offset, int size) {
                    return 0;
                }

                @Override
                public void write(long offset, int size, long value) {
                    if (offset != POSTED_OFFSET || value != 1) {
                        return;
                    }
                    if (Thread.currentThread().getName().startsWith("vfio-user connection")) {
                        trappedAcks.incrementAndGet();
                    } else {
                        postedAcks.incrementAndGet();
                    }
                    line.lower();
                    if (raised.get() < wanted) {
                        raised.incrementAndGet();
                        line.raise();
                    }
                }
            }));
        }

        @Override
        public List<ModelIrqSpec> irqs() {
            return List.of(ModelIrqSpec.level(0, 1));
        }

        @Override
        public List<PostedWrite> postedWrites() {
            return List.of(new PostedWrite(0, POSTED_OFFSET, 4, 1));
        }

        @Override
        public void attach(DeviceContext context) {
            line = context.irq(0, 0);
            // asserted before any client: it fires once the client sets the trigger eventfd
            raised.incrementAndGet();
            line.raise();
        }
    }

    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void aPostedAckTrapsWhileItsUserSideIrqIsActiveSoItEndsTheIrq(IrqchipMode irqchip) throws Exception {
        Tiers.assumeKvm();
        int wanted = 10;
        Path socket = directory.resolve("posted-ack.sock");
        PostedAckModel model = new PostedAckModel(wanted);
        PlatformDeviceConfig config = DeviceSpecParser.parse("vfio-platform,socket=" + socket
                + ",compat=jvfio,,posted-ack,x-irqfd=off,mmap-timeout-ms=50,x-reply-timeout-ms=120000");
        MachineConfig machineConfig = MachineConfig.builder()
                .guest("irq")
                .args(wanted, 1, 1, POSTED_OFFSET)
                .irqchip(irqchip)
                .build();
        try (VfioUserServer server = VfioUserServer.start(socket, model);
                AssignedMachine assembly = AssignedMachine.create(machineConfig, List.of(config))) {
            VfioPlatformDevice device = assembly.devices().getFirst();
            assembly.machine().start();
            int code = assembly.machine().awaitExit(GUEST_TIMEOUT);
            assertThat(code).as(assembly.machine().console()).isZero();
            assertThat(assembly.machine().reports())
                    .as("interrupts the guest handled")
                    .containsExactly(wanted);
            assertThat(model.line.signals())
                    .as("the device's interrupts: each one ended by the guest's ack, none re-delivered from a"
                            + " line left high")
                    .isEqualTo(wanted);
            assertThat(model.trappedAcks.get())
                    .as("every ack came while its IRQ was ACTIVE, so as a trapped REGION_WRITE")
                    .isEqualTo(wanted);
            assertThat(model.postedAcks.get()).isZero();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (device.regions().getFirst().postedWrites().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(device.regions().getFirst().postedWrites())
                    .as("posted again once the mmap timer restores the fast path")
                    .containsExactly(POSTED_OFFSET);
        }
    }
}
