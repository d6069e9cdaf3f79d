package io.jvfio.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.SwitchableRegion;
import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.testing.CapturedLog;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqInfo;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfio.VfioException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A region's trapped accesses and teardown, with a device and memory slots that the test fakes. */
class PlatformRegionTest {
    private static final long BASE = 0x1000_0000L;
    private static final RegionInfo REGION =
            RegionInfo.of(0, RegionInfo.FLAG_READ | RegionInfo.FLAG_WRITE | RegionInfo.FLAG_MMAP, 0x10000, 0);

    @Test
    void closeKeepsTheMemoryOfASlotKvmWouldNotDelete() throws ErrnoException {
        Mapping memory = Mapping.anonymous(0x1000, "test region");
        try {
            List<Integer> released = new ArrayList<>();
            SwitchableRegion slot =
                    new SwitchableRegion("test.region0.mmap0", refusingUnmap(released), 1, BASE, memory);
            PlatformRegion region =
                    new PlatformRegion("test", new FailingDevice(), REGION, BASE, List.of(memory), gone -> {});
            region.attachFastPath(slot);
            region.setFastPath(true);

            region.close();

            assertThat(slot.isMapped()).isTrue();
            assertThat(released)
                    .as("the number of a slot that still maps memory must not serve another slot")
                    .isEmpty();
            assertThat(memory.isOpen())
                    .as("memory a KVM slot still maps stays mapped: unmapped, the guest would reach whatever the"
                            + " process maps at its address next")
                    .isTrue();
        } finally {
            memory.close();
        }
    }

    @Test
    void turningTheFastPathOffUnmapsEverySlotKvmLetsGoAndClosingGivesBackTheirNumbers() throws ErrnoException {
        Mapping first = Mapping.anonymous(0x1000, "first area");
        Mapping second = Mapping.anonymous(0x1000, "second area");
        try {
            List<Integer> released = new ArrayList<>();
            SwitchableRegion refused =
                    new SwitchableRegion("test.region0.mmap0", refusingUnmap(released), 1, BASE, first);
            SwitchableRegion deleted =
                    new SwitchableRegion("test.region0.mmap1", acceptingAll(released), 2, BASE + 0x2000, second);
            PlatformRegion region =
                    new PlatformRegion("test", new FailingDevice(), REGION, BASE, List.of(first, second), gone -> {});
            region.attachFastPath(refused);
            region.attachFastPath(deleted);
            region.setFastPath(true);

            assertThatThrownBy(() -> region.setFastPath(false)).isInstanceOf(ErrnoException.class);

            assertThat(deleted.isMapped())
                    .as("a slot left mapped while an IRQ is ACTIVE takes the guest's EOI access without a trap")
                    .isFalse();

            region.close();
            assertThat(released)
                    .as("closing gives back the number of the deleted slot, not of the one KVM kept")
                    .containsExactly(2);
        } finally {
            first.close();
            second.close();
        }
    }

    private static SwitchableRegion.SlotControl refusingUnmap(List<Integer> released) {
        return new SwitchableRegion.SlotControl() {
            @Override
            public void map(int slot, long guestAddress, Mapping m) {}

            @Override
            public void unmap(int slot) throws ErrnoException {
                throw new ErrnoException("KVM_SET_USER_MEMORY_REGION", Errno.ENOMEM);
            }

            @Override
            public void release(int slot) {
                released.add(slot);
            }
        };
    }

    private static SwitchableRegion.SlotControl acceptingAll(List<Integer> released) {
        return new SwitchableRegion.SlotControl() {
            @Override
            public void map(int slot, long guestAddress, Mapping m) {}

            @Override
            public void unmap(int slot) {}

            @Override
            public void release(int slot) {
                released.add(slot);
            }
        };
    }

    @Test
    void failuresAtEveryOffsetLogABoundedNumberOfLines() {
        PlatformRegion region = new PlatformRegion("test", new FailingDevice(), REGION, BASE, List.of(), gone -> {});
        try (CapturedLog log = new CapturedLog(PlatformRegion.class)) {
            for (long offset = 0; offset < REGION.size(); offset += 4) {
                assertThat(region.read(offset, 4)).isEqualTo(0xFFFF_FFFFL);
                region.write(offset, 4, 0);
            }

            assertThat(region.failedAccesses()).isEqualTo(REGION.size() / 2);
            assertThat(log.messages())
                    .as("lines logged for %d failed accesses", region.failedAccesses())
                    .hasSizeLessThanOrEqualTo(100);
        }
    }

    /** A device whose every access fails, naming the offset as a backend's error does. */
    private static final class FailingDevice implements VfioDevice {
        @Override
        public String name() {
            return "failing";
        }

        @Override
        public DeviceInfo info() throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public RegionInfo regionInfo(int region) {
            return REGION;
        }

        @Override
        public IrqInfo irqInfo(int index) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long read(int region, long offset, int size) throws IOException {
            throw new VfioException(name(), "REGION_READ of " + size + " bytes at 0x" + Long.toHexString(offset));
        }

        @Override
        public void write(int region, long offset, int size, long value) throws IOException {
            throw new VfioException(name(), "REGION_WRITE of " + size + " bytes at 0x" + Long.toHexString(offset));
        }

        @Override
        public void read(int region, long offset, byte[] destination) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void write(int region, long offset, byte[] source) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Mapping map(int region, long offset, long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void setIrqs(IrqSet request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void reset() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void mapDma(DmaRegion region) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void unmapDma(long iova, long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {}
    }
}
