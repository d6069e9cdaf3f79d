package io.jvfio.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.vcpu.CpuidEntry;
import io.jvfio.sys.testing.Resources;
import io.jvfio.sys.testing.Tiers;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** IRQ lines, switchable regions, CPUID masking and RAM, without KVM. */
class MachinePartsTest {
    @Test
    void irqLinePulseRaisesThenLowersItsGsi() throws Exception {
        List<String> levels = new ArrayList<>();
        IrqLine line = new IrqLine(17, (gsi, level) -> levels.add(gsi + "=" + (level ? 1 : 0)));
        line.pulse();
        line.raise();
        line.lower();
        assertThat(levels).containsExactly("17=1", "17=0", "17=1", "17=0");
    }

    @Test
    void irqLineWithIrqfdHandsTriggerAndResampleToItsTargetWithItsGsi() throws Exception {
        List<String> calls = new ArrayList<>();
        IrqLine line = IrqLine.withIrqfd(18, (gsi, level) -> {}, new IrqLine.IrqfdTarget() {
            @Override
            public void registerIrqfd(int gsi, EventFd trigger, Optional<EventFd> resample) {
                calls.add("register " + gsi + (resample.isPresent() ? " with resample" : ""));
            }

            @Override
            public void unregisterIrqfd(int gsi, EventFd trigger) {
                calls.add("unregister " + gsi);
            }
        });
        try (EventFd trigger = EventFd.create();
                EventFd resample = EventFd.create()) {
            line.registerIrqfd(trigger, Optional.of(resample));
            line.unregisterIrqfd(trigger);
            line.registerIrqfd(trigger, Optional.empty());
        }
        assertThat(line.acceptsIrqfd()).isTrue();
        assertThat(calls).containsExactly("register 18 with resample", "unregister 18", "register 18");
    }

    @Test
    void irqLineWithoutIrqfdRefusesOneAndSaysWhy() throws Exception {
        IrqLine line = new IrqLine(19, (gsi, level) -> {});
        try (EventFd trigger = EventFd.create()) {
            assertThat(line.acceptsIrqfd()).isFalse();
            assertThatThrownBy(() -> line.registerIrqfd(trigger, Optional.empty()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("IrqLine[gsi 19]: KVM drives lines from eventfds only on its in-kernel irqchip with "
                            + "irqfd and resamplefd");
        }
    }

    @Test
    void switchableRegionAddsAndDeletesItsSlotOnlyOnChange() throws Exception {
        List<String> calls = new ArrayList<>();
        try (Mapping memory = Mapping.anonymous(0x1000, "sub")) {
            SwitchableRegion region = new SwitchableRegion(
                    "r",
                    new SwitchableRegion.SlotControl() {
                        @Override
                        public void map(int slot, long guestAddress, Mapping m) {
                            calls.add("map " + slot + " 0x" + Long.toHexString(guestAddress));
                        }

                        @Override
                        public void unmap(int slot) {
                            calls.add("unmap " + slot);
                        }

                        @Override
                        public void release(int slot) {
                            calls.add("release " + slot);
                        }
                    },
                    3,
                    0xD0001000L,
                    memory);
            region.setMapped(true);
            region.setMapped(true);
            region.setMapped(false);
            region.setMapped(false);
            assertThat(calls).containsExactly("map 3 0xd0001000", "unmap 3");
            assertThat(region.toggles()).isEqualTo(2);
            assertThat(region.isMapped()).isFalse();

            region.setMapped(true);
            region.close();
            region.close();
            assertThat(calls).endsWith("map 3 0xd0001000", "unmap 3", "release 3");
            assertThatThrownBy(() -> region.setMapped(true))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("r: its memory slot is closed");
        }
    }

    @Test
    void memorySlotNumbersGoLowestFirstComeBackAndEndAtKvmsLimit() {
        MemorySlotNumbers numbers = new MemorySlotNumbers(4, Machine.RAM_SLOT);
        assertThat(List.of(numbers.take(), numbers.take(), numbers.take())).containsExactly(1, 2, 3);
        assertThatThrownBy(numbers::take)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("all 4 memory slots this KVM offers (KVM_CAP_NR_MEMSLOTS) are in use");

        numbers.release(2);
        assertThat(numbers.take())
                .as("a device that comes after one that went reuses its number")
                .isEqualTo(2);
        numbers.release(1);
        assertThatThrownBy(() -> numbers.release(1)).hasMessage("memory slot 1 was given back twice");
    }

    @Test
    void switchableRegionRefusesUnalignedAddress() throws Exception {
        try (Mapping memory = Mapping.anonymous(0x1000, "sub")) {
            assertThatThrownBy(() -> new SwitchableRegion("r", null, 1, 0xD0000800L, memory))
                    .hasMessageContaining("page-aligned");
        }
    }

    @Test
    void cpuidMaskClearsFeaturesTheEmulatorCannotRun() {
        List<CpuidEntry> masked = CpuidMask.apply(List.of(
                new CpuidEntry(1, 0, 0, 0x806F8, 0x800, -1, -1),
                new CpuidEntry(7, 0, 1, 0, -1, -1, -1),
                new CpuidEntry(0x80000001, 0, 0, 0, 0, -1, -1),
                new CpuidEntry(0, 0, 0, 0x1F, 1, 2, 3)));
        CpuidEntry leaf1 = masked.get(0);
        assertThat(leaf1.ecx() & (1 << 23)).as("popcnt").isZero();
        assertThat(leaf1.ecx() & (1 << 28)).as("avx").isZero();
        assertThat(leaf1.ecx() & (1 << 26)).as("xsave").isZero();
        assertThat(leaf1.ecx() & (1 << 13)).as("cmpxchg16b").isZero();
        assertThat(leaf1.ecx() & (1 << 22)).as("movbe").isZero();
        assertThat(leaf1.ecx() & (1 << 21)).as("x2apic kept").isNotZero();
        assertThat(leaf1.edx())
                .as("baseline edx (fpu, sse, sse2, apic...) kept")
                .isEqualTo(-1);
        CpuidEntry leaf7 = masked.get(1);
        assertThat(leaf7.ebx() & ((1 << 3) | (1 << 8) | (1 << 19) | (1 << 5)))
                .as("bmi1 bmi2 adx avx2")
                .isZero();
        assertThat(leaf7.ecx() & (1 << 22)).as("rdpid").isZero();
        CpuidEntry ext = masked.get(2);
        assertThat(ext.ecx() & (1 << 5)).as("lzcnt").isZero();
        assertThat(ext.edx() & (1 << 27)).as("rdtscp").isZero();
        assertThat(ext.edx() & (1 << 29)).as("long mode kept").isNotZero();
        assertThat(masked.get(3)).isEqualTo(new CpuidEntry(0, 0, 0, 0x1F, 1, 2, 3));
    }

    @Test
    void guestRamIsAMemfdMappingThatClosesWithoutLeaks() throws Exception {
        int fds = Resources.openFds();
        int maps = Resources.mappings("jvfio-guest-ram");
        try (GuestRam ram = GuestRam.create(4 << 20)) {
            ram.write(0x1000, new byte[] {1, 2, 3});
            assertThat(ram.read(0x1000, 3)).containsExactly(1, 2, 3);
            assertThat(ram.fd().isOpen()).isTrue();
            assertThat(Files.readSymbolicLink(
                            Path.of("/proc/self/fd/" + ram.fd().get())))
                    .asString()
                    .contains("memfd:jvfio-guest-ram");
        }
        assertThat(Resources.openFds()).isEqualTo(fds);
        assertThat(Resources.mappings("jvfio-guest-ram")).isEqualTo(maps);
        assertThatThrownBy(() -> GuestRam.create(1000)).hasMessageContaining("multiple of 4096");
    }

    @Test
    void machineWithoutKvmFailsWithTheClearMessageAndLeaksNothing() throws Exception {
        Assumptions.assumeFalse(Tiers.kvmAvailable(), "this machine has /dev/kvm");
        int fds = Resources.openFds();
        MachineConfig config = MachineConfig.builder().guest("hello").build();
        assertThatThrownBy(() -> Machine.create(config)).hasMessageStartingWith("KVM is not available: /dev/kvm");
        assertThat(Resources.openFds()).isEqualTo(fds);
    }

    @Test
    void consoleInputNeedsTheUartConsole() {
        MachineConfig.Builder builder = MachineConfig.builder()
                .guest(new byte[0])
                .console(ConsoleDevice.OUTPUT_PORT)
                .consoleInput(new ByteArrayInputStream(new byte[1]));

        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has no receiver");
    }
}
