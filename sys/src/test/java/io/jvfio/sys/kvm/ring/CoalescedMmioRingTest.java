package io.jvfio.sys.kvm.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.KvmAbi.kvm_coalesced_mmio;
import io.jvfio.sys.kvm.KvmAbi.kvm_coalesced_mmio_ring;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The consumer side of the coalesced MMIO ring, against entries laid out and published as KVM does. */
class CoalescedMmioRingTest {
    private static final int MAX = kvm_coalesced_mmio_ring.KVM_COALESCED_MMIO_MAX;

    private record Write(long address, int length, long data) {}

    private Mapping page;
    private CoalescedMmioRing ring;
    private final List<Write> seen = new ArrayList<>();

    @BeforeEach
    void mapPage() throws ErrnoException {
        page = Mapping.anonymous(2 * CoalescedMmioRing.PAGE_SIZE, "ring test");
        ring = CoalescedMmioRing.inPage(page, 1);
    }

    @AfterEach
    void unmap() {
        page.close();
    }

    /** What virt/kvm/coalesced_mmio.c does: fill the entry at last, then publish last + 1. */
    private void kvmAppends(long address, int length, long data) {
        long base = CoalescedMmioRing.PAGE_SIZE;
        int last = page.getInt(base + kvm_coalesced_mmio_ring.last);
        long entry = base + kvm_coalesced_mmio_ring.coalesced_mmio + (long) last * kvm_coalesced_mmio.SIZE;
        page.putLong(entry + kvm_coalesced_mmio.phys_addr, address);
        page.putInt(entry + kvm_coalesced_mmio.len, length);
        page.putLong(entry + kvm_coalesced_mmio.data, data);
        page.putIntRelease(base + kvm_coalesced_mmio_ring.last, (last + 1) % MAX);
    }

    private void startBothIndexesAt(int index) {
        page.putInt(CoalescedMmioRing.PAGE_SIZE + kvm_coalesced_mmio_ring.first, index);
        page.putInt(CoalescedMmioRing.PAGE_SIZE + kvm_coalesced_mmio_ring.last, index);
    }

    private int drain() {
        return ring.drain((address, length, data) -> seen.add(new Write(address, length, data)));
    }

    @Test
    void emptyRingDrainsNothing() {
        assertThat(ring.isEmpty()).isTrue();
        assertThat(drain()).isZero();
        assertThat(seen).isEmpty();
    }

    @Test
    void queuedWritesComeOutOldestFirstWithTheirLengthAndData() {
        kvmAppends(0xFEE0_00B0L, 4, 0);
        kvmAppends(0xFEE0_00B0L, 4, 0xDEAD_BEEFL);
        kvmAppends(0xD000_0010L, 1, 0x1FF);

        assertThat(ring.isEmpty()).isFalse();
        assertThat(drain()).isEqualTo(3);
        assertThat(seen)
                .containsExactly(
                        new Write(0xFEE0_00B0L, 4, 0),
                        new Write(0xFEE0_00B0L, 4, 0xDEAD_BEEFL),
                        new Write(0xD000_0010L, 1, 0xFF));
        assertThat(ring.isEmpty()).isTrue();
        assertThat(page.getInt(CoalescedMmioRing.PAGE_SIZE + kvm_coalesced_mmio_ring.first))
                .isEqualTo(3);
    }

    @Test
    void entriesWrapAroundTheEndOfThePage() {
        startBothIndexesAt(MAX - 2);
        for (int i = 0; i < 5; i++) {
            kvmAppends(0x1000 + i, 4, i);
        }

        assertThat(drain()).isEqualTo(5);
        assertThat(seen).extracting(Write::data).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(page.getInt(CoalescedMmioRing.PAGE_SIZE + kvm_coalesced_mmio_ring.first))
                .isEqualTo(3);
    }

    @Test
    void aFullRingHoldsOneEntryLessThanItsSlots() {
        for (int i = 0; i < CoalescedMmioRing.capacity(); i++) {
            kvmAppends(0x2000, 4, i);
        }

        assertThat(drain()).isEqualTo(MAX - 1);
        assertThat(seen.getLast().data()).isEqualTo(MAX - 2);
    }

    @Test
    void anIndexOutsideTheRingIsRefusedNamingIt() {
        page.putInt(CoalescedMmioRing.PAGE_SIZE + kvm_coalesced_mmio_ring.last, MAX);

        assertThatThrownBy(this::drain)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("coalesced MMIO ring: last = " + MAX + " is not 0.." + (MAX - 1));
    }

    @Test
    void aRingOutsideItsMappingIsRefused() {
        assertThatThrownBy(() -> CoalescedMmioRing.inPage(page, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a whole page of");
    }

    @Test
    void aRingWhoseMappingIsClosedThrowsInsteadOfReadingFreedMemory() {
        page.close();

        assertThatThrownBy(ring::isEmpty).isInstanceOf(IllegalStateException.class);
    }
}
