package io.jvfio.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PlatformBusTest {
    @Test
    void mmioRangesArePageAlignedConsecutiveAndInsideTheWindow() {
        PlatformBus bus = new PlatformBus();
        assertThat(bus.allocateMmio(0x100)).isEqualTo(0xD0000000L);
        assertThat(bus.allocateMmio(0x1001)).isEqualTo(0xD0001000L);
        assertThat(bus.allocateMmio(0x1000)).isEqualTo(0xD0003000L);
    }

    @Test
    void releasedRangeIsReusedFirstFit() {
        PlatformBus bus = new PlatformBus();
        long a = bus.allocateMmio(0x2000);
        bus.allocateMmio(0x1000);
        bus.releaseMmio(a);
        assertThat(bus.allocateMmio(0x1000)).isEqualTo(a);
        assertThat(bus.allocateMmio(0x2000)).isEqualTo(0xD0003000L);
    }

    @Test
    void exhaustedWindowFailsClearly() {
        PlatformBus bus = new PlatformBus();
        bus.allocateMmio(PlatformBus.MMIO_WINDOW_SIZE - 0x1000);
        bus.allocateMmio(0x1000);
        assertThatThrownBy(() -> bus.allocateMmio(1)).hasMessageContaining("no free");
        assertThatThrownBy(() -> bus.releaseMmio(0x1234)).hasMessageContaining("not an allocated");
    }

    @Test
    void gsisComeSixteenToTwentyThreeThenLegacyFree() {
        PlatformBus bus = new PlatformBus();
        int[] expected = {16, 17, 18, 19, 20, 21, 22, 23, 5, 9, 10, 11};
        for (int gsi : expected) {
            assertThat(bus.allocateGsi()).isEqualTo(gsi);
        }
        assertThatThrownBy(bus::allocateGsi).hasMessageContaining("no free GSI");
        bus.releaseGsi(9);
        bus.releaseGsi(17);
        assertThat(bus.allocateGsi()).isEqualTo(17);
        assertThat(bus.allocateGsi()).isEqualTo(9);
        assertThatThrownBy(() -> bus.releaseGsi(3)).hasMessageContaining("not allocated");
    }

    @Test
    void closedLeaseReturnsItsWindowAndGsisSoTheNextDeviceGetsTheSame() {
        PlatformBus bus = new PlatformBus();
        PlatformBus.Lease first = bus.lease();
        long window = first.allocateMmio(0x2000);
        int edge = first.allocateGsi();
        int level = first.allocateGsi();
        long kept = bus.allocateMmio(0x1000);

        first.close();

        PlatformBus.Lease second = bus.lease();
        assertThat(second.allocateMmio(0x2000)).isEqualTo(window);
        assertThat(second.allocateGsi()).isEqualTo(edge);
        assertThat(second.allocateGsi()).isEqualTo(level);
        assertThat(bus.allocateMmio(0x1000))
                .as("the range outside the lease stays taken")
                .isNotEqualTo(kept);
    }

    @Test
    void leaseClosesOnceAndRefusesToAllocateAfterwards() {
        PlatformBus bus = new PlatformBus();
        PlatformBus.Lease lease = bus.lease();
        lease.allocateGsi();
        lease.close();

        lease.close();

        assertThat(bus.allocateGsi()).isEqualTo(16);
        assertThatThrownBy(lease::allocateGsi).hasMessageContaining("lease was closed");
        assertThatThrownBy(() -> lease.allocateMmio(0x1000)).hasMessageContaining("lease was closed");
    }
}
