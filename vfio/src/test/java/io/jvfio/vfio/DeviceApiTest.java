package io.jvfio.vfio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DeviceApiTest {
    @Test
    void deviceFlagsNameEachBitAndUnknownOnes() {
        DeviceInfo info = new DeviceInfo(DeviceInfo.FLAG_RESET | DeviceInfo.FLAG_PLATFORM | (1 << 20), 2, 1);
        assertThat(info.isPlatform()).isTrue();
        assertThat(info.isPci()).isFalse();
        assertThat(info.supportsReset()).isTrue();
        assertThat(info.flagNames()).isEqualTo("RESET|PLATFORM|0x100000");
    }

    @Test
    void mappableRegionWithoutSparseCapabilityMapsWhole() {
        RegionInfo region = RegionInfo.of(0, RegionInfo.FLAG_READ | RegionInfo.FLAG_MMAP, 0x2000, 0);
        assertThat(region.mappableAreas()).containsExactly(new SparseArea(0, 0x2000));
    }

    @Test
    void sparseAreasAreTheOnlyMappableWindows() {
        RegionInfo region = new RegionInfo(
                1, RegionInfo.FLAG_MMAP, 0x4000, 0, Optional.of(List.of(new SparseArea(0x1000, 0x1000))), List.of());
        assertThat(region.mappableAreas()).containsExactly(new SparseArea(0x1000, 0x1000));
    }

    @Test
    void sparseAreaPastTheRegionIsRefused() {
        assertThatThrownBy(() -> new RegionInfo(
                        1,
                        RegionInfo.FLAG_MMAP,
                        0x1000,
                        0,
                        Optional.of(List.of(new SparseArea(0x800, 0x1000))),
                        List.of()))
                .hasMessageContaining("region 1: sparse area [0x800, 0x1800) exceeds the region's size 0x1000");
    }

    @Test
    void unmappableRegionHasNoMappableAreas() {
        assertThat(RegionInfo.of(0, RegionInfo.FLAG_READ, 0x1000, 0).mappableAreas())
                .isEmpty();
    }

    @Test
    void irqSetFlagsCombineDataAndAction() {
        assertThat(IrqSet.unmask(0, 0).flags()).isEqualTo(IrqSet.DATA_NONE | IrqAction.UNMASK.flag());
        assertThat(IrqSet.trigger(0, 0, Optional.empty()).flags())
                .isEqualTo(IrqSet.DATA_EVENTFD | IrqAction.TRIGGER.flag());
        assertThat(IrqAction.fromFlags(IrqSet.DATA_BOOL | IrqAction.MASK.flag()))
                .isEqualTo(IrqAction.MASK);
    }

    @Test
    void irqSetDataCountMustMatch() {
        assertThatThrownBy(() -> new IrqSet(0, IrqAction.MASK, 0, 2, new IrqSet.Data.Bools(new boolean[] {true})))
                .hasMessage("IRQ set: 1 data entries for count 2");
    }

    @Test
    void twoActionsInOneFlagWordAreRefused() {
        assertThatThrownBy(() -> IrqAction.fromFlags(IrqAction.MASK.flag() | IrqAction.UNMASK.flag()))
                .hasMessageContaining("more than one IRQ action");
    }

    @Test
    void automaskedIrqReportsIt() {
        IrqInfo irq = new IrqInfo(0, IrqInfo.FLAG_EVENTFD | IrqInfo.FLAG_AUTOMASKED, 1);
        assertThat(irq.automasked()).isTrue();
        assertThat(irq.flagNames()).isEqualTo("EVENTFD|AUTOMASKED");
    }

    @Test
    void deviceTreeIdentityNeedsACompatibleString() {
        assertThatThrownBy(() -> new DeviceTreeIdentity(List.of(), Map.of(), List.of()))
                .hasMessageContaining("at least one compatible");
    }
}
