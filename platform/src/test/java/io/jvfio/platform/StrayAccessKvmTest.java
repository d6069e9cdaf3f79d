package io.jvfio.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.bus.Bus;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.sys.testing.CapturedLog;
import io.jvfio.sys.testing.Tiers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest that touches what no device answers properly: nothing at all, a region unaligned, across a
 * region's end, with every size. The vCPU keeps running, what no device holds reads as all-ones, and
 * each cause is logged once although the guest makes every access twice. An access across the end of
 * the device's last region reaches the host split at the page boundary (as x86 splits any MMIO access
 * that crosses a page): the device answers its part (its RAM reads 0 after reset) and the part past
 * the end is unclaimed.
 */
@Tag(Tiers.KVM)
@Tag(Tiers.PROCESS)
class StrayAccessKvmTest {
    private static final long NOWHERE = 0xE000_0000L;
    private static final int ALL_ONES = -1;
    /** ID (0x4A564654) and VERSION (0x00010000) read 4 bytes from offset 1. */
    private static final int ID_AT_OFFSET_1 = 0x004A_5646;

    @TempDir
    Path directory;

    @Test
    void strayAccessesAreAnsweredLoggedOncePerCauseAndNeverStopTheVcpu() throws Exception {
        Tiers.assumeKvm();
        try (CapturedLog captured = new CapturedLog(Bus.class, PlatformRegion.class);
                ServedTestDevice served = ServedTestDevice.start(directory, 1)) {
            PlatformDeviceConfig config =
                    DeviceSpecParser.parse("vfio-platform,socket=" + served.socket() + ",x-reply-timeout-ms=120000");
            try (AssignedMachine assembly = AssignedMachine.create(
                    MachineConfig.builder().guest("stray").args(NOWHERE).build(), List.of(config))) {
                Machine machine = assembly.machine();
                VfioPlatformDevice device = assembly.devices().getFirst();
                machine.start();
                assertThat(machine.awaitExit(Duration.ofMinutes(5)))
                        .as(machine.console())
                        .isZero();

                List<Integer> pass =
                        List.of(0xFF, 0xFFFF, ALL_ONES, ALL_ONES, ALL_ONES, ID_AT_OFFSET_1, 0xFFFF_0000, 0, ALL_ONES);
                assertThat(machine.reports())
                        .containsExactlyElementsOf(
                                Stream.concat(pass.stream(), pass.stream()).toList());
                for (int size : new int[] {1, 2, 4, 8}) {
                    for (String direction : new String[] {"read", "write"}) {
                        String cause =
                                "unclaimed " + direction + " of " + size + " bytes at 0x" + Long.toHexString(NOWHERE);
                        assertThat(captured.count(cause))
                                .as("logged once: %s", cause)
                                .isEqualTo(1);
                    }
                }
                VfioPlatformDevice.PlacedRegion last = device.regions().getLast();
                String end =
                        "0x" + Long.toHexString(last.guestBase() + last.info().size());
                for (String cause : List.of(
                        "unclaimed read of 2 bytes at " + end,
                        "unclaimed write of 4 bytes at " + end,
                        "unclaimed read of 4 bytes at " + end)) {
                    assertThat(captured.count(cause))
                            .as("logged once: %s", cause)
                            .isEqualTo(1);
                }
                assertThat(machine.mmio().unclaimedAccesses())
                        .as("8 at nowhere and 3 past the end, twice")
                        .isEqualTo(22);
                assertThat(device.regions())
                        .allSatisfy(
                                region -> assertThat(region.failedAccesses()).isZero());
            }
        }
    }
}
