package io.jvfio.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.MachineConfig;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.testing.Tiers;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.PostedWrite;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A region the device maps for reads only (jvfio's read-only mmap capability): jvfio makes it a
 * read-only memory slot, so the {@code mmio} guest's reads come from the device's page with no exit,
 * while its writes still reach the device, trapped or, for the 4-byte write at +16 the device offers an
 * ioeventfd for, posted by KVM. x-no-mmap, or an IRQ on the user-side path, keeps the reads trapped.
 */
@Tag(Tiers.KVM)
class ReadMappedRegionKvmTest {
    private static final Duration GUEST_TIMEOUT = Duration.ofMinutes(5);
    private static final int ROUNDS = 20;
    private static final long POSTED_OFFSET = 16;
    private static final long POSTED_VALUE = 0x33333333L;
    /** What the guest reads back each round: the byte, halfword, word and the quadword's two halves. */
    private static final List<Integer> ROUND_REPORTS = List.of(0x11, 0x2222, 0x33333333, 0x44444444, 0x44444444);

    @TempDir
    Path directory;

    /**
     * A register file whose page holds what each read returns: a write stores its value there, a trapped
     * read answers from there. The word at +16 reads 0x33333333 from the start, so that a posted write
     * (which the guest does not wait for) changes nothing a read sees.
     */
    private static final class PageModel implements DeviceModel {
        final boolean withIrq;
        final AtomicInteger trappedReads = new AtomicInteger();
        final AtomicInteger trappedWrites = new AtomicInteger();
        final AtomicInteger postedWrites = new AtomicInteger();
        volatile Mapping page;

        PageModel(boolean withIrq) {
            this.withIrq = withIrq;
        }

        @Override
        public List<RegionSpec> regions() {
            return List.of(RegionSpec.readMapped(0, 0x1000, new RegionHandler() {
                @Override
                public long read(long offset, int size) {
                    trappedReads.incrementAndGet();
                    return page.read(offset, size);
                }

                @Override
                public void write(long offset, int size, long value) {
                    page.write(offset, size, value);
                    // the connection's thread serves REGION_WRITEs; posted ones come from the server's event loop
                    if (Thread.currentThread().getName().startsWith("vfio-user connection")) {
                        trappedWrites.incrementAndGet();
                    } else {
                        postedWrites.incrementAndGet();
                    }
                }
            }));
        }

        @Override
        public List<ModelIrqSpec> irqs() {
            return withIrq ? List.of(ModelIrqSpec.level(0, 1)) : List.of();
        }

        @Override
        public List<PostedWrite> postedWrites() {
            return List.of(new PostedWrite(0, POSTED_OFFSET, 4, POSTED_VALUE));
        }

        @Override
        public void attach(DeviceContext context) {
            page = context.regionMemory(0);
            page.write(POSTED_OFFSET, 4, POSTED_VALUE);
        }
    }

    record Run(int exitCode, List<Integer> reports, VfioPlatformDevice.PlacedRegion region, PageModel model) {}

    private Run run(PageModel model, String properties) throws Exception {
        Path socket = directory.resolve("page.sock");
        PlatformDeviceConfig config = DeviceSpecParser.parse(
                "vfio-platform,socket=" + socket + ",compat=jvfio,,page-test,x-reply-timeout-ms=120000" + properties);
        MachineConfig machineConfig =
                MachineConfig.builder().guest("mmio").args(ROUNDS, 0).build();
        try (VfioUserServer server = VfioUserServer.start(socket, model);
                AssignedMachine assembly = AssignedMachine.create(machineConfig, List.of(config))) {
            assembly.machine().start();
            int code = assembly.machine().awaitExit(GUEST_TIMEOUT);
            VfioPlatformDevice.PlacedRegion region =
                    assembly.devices().getFirst().regions().getFirst();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (model.postedWrites.get() == 0
                    && region.postedWrites().contains(POSTED_OFFSET)
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            return new Run(code, assembly.machine().reports(), region, model);
        }
    }

    private static List<Integer> expectedReports() {
        List<Integer> all = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            all.addAll(ROUND_REPORTS);
        }
        return Collections.unmodifiableList(all);
    }

    @Test
    void readsComeFromThePageWithoutAnExitWhileWritesStillReachTheDevice() throws Exception {
        Tiers.assumeKvm();
        Run run = run(new PageModel(false), "");
        assertThat(run.exitCode()).isZero();
        assertThat(run.region().readPath())
                .as("a read-only slot over the region")
                .isTrue();
        assertThat(run.reports())
                .as("each value written, read back from the page")
                .isEqualTo(expectedReports());
        assertThat(run.region().trappedReads()).as("no read exits").isZero();
        assertThat(run.model().trappedReads.get())
                .as("no read reached the device")
                .isZero();
        assertThat(run.region().postedWrites())
                .as("an ioeventfd over a read-only slot is registered")
                .containsExactly(POSTED_OFFSET);
        assertThat(run.region().trappedWrites())
                .as("per round the 1-, 2- and 8-byte writes exit through the read-only slot")
                .isEqualTo(3L * ROUNDS);
        assertThat(run.model().trappedWrites.get()).isEqualTo(3 * ROUNDS);
        assertThat(run.model().postedWrites.get())
                .as("the writes at +16 came through the eventfd (signals before the server reads it come as one)")
                .isBetween(1, ROUNDS);
    }

    @Test
    void xNoMmapKeepsEveryReadTrapped() throws Exception {
        Tiers.assumeKvm();
        Run run = run(new PageModel(false), ",x-no-mmap=on");
        assertThat(run.exitCode()).isZero();
        assertThat(run.region().readPath()).isFalse();
        assertThat(run.reports()).isEqualTo(expectedReports());
        assertThat(run.region().trappedReads()).isEqualTo(4L * ROUNDS);
        assertThat(run.model().trappedReads.get()).isEqualTo(4 * ROUNDS);
    }

    @Test
    void anIrqOnTheUserSidePathKeepsEveryReadTrapped() throws Exception {
        Tiers.assumeKvm();
        Run run = run(new PageModel(true), ",x-irqfd=off");
        assertThat(run.exitCode()).isZero();
        assertThat(run.region().readPath())
                .as("the user-side path ends an IRQ at the first trapped access")
                .isFalse();
        assertThat(run.reports()).isEqualTo(expectedReports());
        assertThat(run.region().trappedReads()).isEqualTo(4L * ROUNDS);
    }
}
