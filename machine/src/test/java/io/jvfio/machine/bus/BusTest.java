package io.jvfio.machine.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BusTest {
    /** Records accesses and answers reads with offset + size * 0x100. */
    static final class Recorder implements MmioDevice {
        final List<String> accesses = new ArrayList<>();

        @Override
        public long read(long offset, int size) {
            accesses.add("r " + offset + " " + size);
            return offset + size * 0x100L;
        }

        @Override
        public void write(long offset, int size, long value) {
            accesses.add("w " + offset + " " + size + " " + Long.toHexString(value));
        }
    }

    @Test
    void accessesReachTheDeviceWithOffsetsRelativeToItsBase() {
        Bus bus = new Bus("mmio");
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        bus.add("b", 0x2000, 0x1000, b);
        bus.add("a", 0x1000, 0x1000, a);
        assertThat(bus.read(0x1010, 4)).isEqualTo(0x410);
        bus.write(0x2ff8, 8, 0x1122334455667788L);
        assertThat(a.accesses).containsExactly("r 16 4");
        assertThat(b.accesses).containsExactly("w 4088 8 1122334455667788");
        assertThat(bus.ranges()).extracting(Bus.Range::name).containsExactly("a", "b");
    }

    @Test
    void overlappingInsertIsRefusedNamingBothRanges() {
        Bus bus = new Bus("mmio");
        bus.add("first", 0x1000, 0x1000, new Recorder());
        assertThatThrownBy(() -> bus.add("second", 0x1800, 0x1000, new Recorder()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("second at 0x1800-0x27ff overlaps first at 0x1000-0x1fff");
        assertThatThrownBy(() -> bus.add("below", 0x0, 0x1001, new Recorder())).hasMessageContaining("overlaps first");
        assertThatThrownBy(() -> bus.add("inside", 0x1100, 0x10, new Recorder()))
                .hasMessageContaining("overlaps");
        bus.add("adjacent", 0x2000, 0x10, new Recorder());
        bus.add("before", 0x0, 0x1000, new Recorder());
        assertThat(bus.ranges()).hasSize(3);
    }

    @Test
    void unclaimedReadReturnsAllOnesMaskedToTheSize() {
        Bus bus = new Bus("mmio");
        bus.add("dev", 0x1000, 0x100, new Recorder());
        assertThat(bus.read(0x1100, 1)).isEqualTo(0xFF);
        assertThat(bus.read(0x0, 2)).isEqualTo(0xFFFF);
        assertThat(bus.read(0x5000, 4)).isEqualTo(0xFFFF_FFFFL);
        assertThat(bus.read(0x5000, 8)).isEqualTo(-1L);
        assertThat(bus.unclaimedAccesses()).isEqualTo(4);
    }

    @Test
    void unclaimedWriteIsDroppedAndEachCauseLoggedOnce() {
        Bus bus = new Bus("mmio");
        Recorder device = new Recorder();
        bus.add("dev", 0x1000, 0x100, device);
        bus.write(0x2000, 4, 1);
        bus.write(0x2000, 4, 2);
        bus.write(0x2000, 2, 3);
        assertThat(device.accesses).isEmpty();
        assertThat(bus.loggedCauses())
                .containsExactlyInAnyOrder(
                        "unclaimed write of 4 bytes at 0x2000", "unclaimed write of 2 bytes at 0x2000");
    }

    @Test
    void deviceThatThrowsIsAnsweredAsUnclaimedAndNeverPropagates() {
        Bus bus = new Bus("mmio");
        bus.add("broken", 0, 0x10, new MmioDevice() {
            @Override
            public long read(long offset, int size) {
                throw new IllegalStateException("boom");
            }

            @Override
            public void write(long offset, int size, long value) {
                throw new IllegalStateException("boom");
            }
        });
        assertThat(bus.read(4, 4)).isEqualTo(0xFFFF_FFFFL);
        bus.write(4, 4, 0);
        assertThat(bus.loggedCauses()).hasSize(2);
    }

    @Test
    void deviceReadIsMaskedToTheAccessSize() {
        Bus bus = new Bus("pio");
        bus.add("wide", 0x60, 4, (PioDevice) new PioDevice() {
            @Override
            public long read(long offset, int size) {
                return -1L ^ 0xF0;
            }

            @Override
            public void write(long offset, int size, long value) {}
        });
        assertThat(bus.read(0x60, 1)).isEqualTo(0x0F);
    }

    @Test
    void removedRangeBecomesUnclaimed() {
        Bus bus = new Bus("mmio");
        bus.add("dev", 0x1000, 0x100, new Recorder());
        assertThat(bus.remove(0x1000)).isTrue();
        assertThat(bus.remove(0x1000)).isFalse();
        assertThat(bus.read(0x1000, 4)).isEqualTo(0xFFFF_FFFFL);
    }

    @Test
    void dispatchAmongManyRangesFindsTheRightOne() {
        Bus bus = new Bus("mmio");
        List<Recorder> devices = new ArrayList<>();
        for (int i = 99; i >= 0; i--) {
            Recorder r = new Recorder();
            devices.add(0, r);
            bus.add("d" + i, 0x10000L * i, 0x100, r);
        }
        for (int i = 0; i < 100; i++) {
            bus.write(0x10000L * i + 0x80, 1, i);
            assertThat(bus.read(0x10000L * i + 0x100, 1)).isEqualTo(0xFF);
        }
        for (int i = 0; i < 100; i++) {
            assertThat(devices.get(i).accesses).containsExactly("w 128 1 " + Integer.toHexString(i));
        }
    }
}
