package io.jvfio.machine.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.vcpu.DescriptorTable;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Segment;
import io.jvfio.sys.kvm.vcpu.Sregs;
import io.jvfio.sys.testing.CProbe;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LongModeAndBootInfoTest {
    @Test
    void pageTablesIdentityMapFourGibibytesWithTwoMebibytePages() throws Exception {
        try (Mapping ram = Mapping.anonymous(1 << 20, "ram")) {
            LongMode.writeTables(ram);
            assertThat(ram.getLong(0x1000)).isEqualTo(0x2003);
            assertThat(ram.getLong(0x1008)).isZero();
            for (int i = 0; i < 4; i++) {
                assertThat(ram.getLong(0x2000 + 8 * i)).isEqualTo(0x3003 + 0x1000L * i);
            }
            assertThat(ram.getLong(0x2020)).isZero();
            assertThat(ram.getLong(0x3000)).isEqualTo(0x83);
            assertThat(ram.getLong(0x3008)).isEqualTo(0x200083);
            long lapicPde = 0x3000 + 8L * (0xFEE00000L >> 21);
            assertThat(ram.getLong(lapicPde)).isEqualTo(0xFEE00083L);
            assertThat(ram.getLong(0x6FF8)).isEqualTo(0xFFE00083L);
        }
    }

    @Test
    void gdtHoldsNullCode64AndDataDescriptors() throws Exception {
        try (Mapping ram = Mapping.anonymous(1 << 20, "ram")) {
            LongMode.writeTables(ram);
            assertThat(ram.getLong(0x500)).isZero();
            assertThat(ram.getLong(0x508)).isEqualTo(0x00AF9B000000FFFFL);
            assertThat(ram.getLong(0x510)).isEqualTo(0x00CF93000000FFFFL);
        }
    }

    @Test
    void entryRegistersFollowTheGuestContract() {
        Segment tr = new Segment(0, 0xFFFF, 0, 11, true, 0, false, false, false, false, false, false);
        Segment ldt = new Segment(0, 0xFFFF, 0, 2, true, 0, false, false, false, false, false, false);
        Segment zero = new Segment(0, 0, 0, 0, false, 0, false, false, false, false, false, false);
        Sregs initial = new Sregs(
                zero,
                zero,
                zero,
                zero,
                zero,
                zero,
                tr,
                ldt,
                new DescriptorTable(0, 0xFFFF),
                new DescriptorTable(0, 0xFFFF),
                0x60000010L,
                0,
                0,
                0,
                0,
                0,
                0xFEE00900L,
                new long[4]);
        Sregs s = LongMode.sregs(initial);
        assertThat(s.cs().selector()).isEqualTo(0x08);
        assertThat(s.cs().l()).isTrue();
        assertThat(s.cs().db()).isFalse();
        assertThat(List.of(s.ds(), s.es(), s.fs(), s.gs(), s.ss())).allSatisfy(d -> {
            assertThat(d.selector()).isEqualTo(0x10);
            assertThat(d.present()).isTrue();
        });
        assertThat(s.cr0() & 0x80000001L).isEqualTo(0x80000001L);
        assertThat(s.cr4() & 0x20).isEqualTo(0x20);
        assertThat(s.efer()).isEqualTo(0x500);
        assertThat(s.cr3()).isEqualTo(0x1000);
        assertThat(s.gdt()).isEqualTo(new DescriptorTable(0x500, 23));
        assertThat(s.tr()).isEqualTo(tr);
        assertThat(s.apicBase()).isEqualTo(0xFEE00900L);
        Regs r = LongMode.regs(0x100000);
        assertThat(r.rip()).isEqualTo(0x100000);
        assertThat(r.rsp()).isEqualTo(0x80000);
        assertThat(r.rdi()).isEqualTo(LongMode.BOOT_INFO_ADDRESS);
        assertThat(r.rflags()).isEqualTo(2);
        assertThat(LongMode.BOOT_INFO_ADDRESS + BootInfo.SIZE).isLessThan(0x10000);
    }

    @Test
    void bootInfoLayoutEqualsTheCStruct() throws Exception {
        Map<String, Long> c = CProbe.run("""
                #include <stdio.h>
                #include <stddef.h>
                #include <stdint.h>
                struct jvfio_device { char compatible[32]; uint32_t region_count; uint32_t irq_count;
                    uint64_t region_base[8]; uint64_t region_size[8]; uint32_t irq_gsi[8]; };
                struct jvfio_boot_info { uint64_t magic; uint64_t ram_size; uint64_t dtb_addr, dtb_size;
                    uint64_t args[8]; uint32_t device_count; uint32_t reserved; struct jvfio_device devices[8]; };
                #define P(n, v) printf("%s %llu\\n", n, (unsigned long long)(v))
                int main(void) {
                    P("dev.size", sizeof(struct jvfio_device));
                    P("dev.region_count", offsetof(struct jvfio_device, region_count));
                    P("dev.irq_count", offsetof(struct jvfio_device, irq_count));
                    P("dev.region_base", offsetof(struct jvfio_device, region_base));
                    P("dev.region_size", offsetof(struct jvfio_device, region_size));
                    P("dev.irq_gsi", offsetof(struct jvfio_device, irq_gsi));
                    P("info.size", sizeof(struct jvfio_boot_info));
                    P("info.ram_size", offsetof(struct jvfio_boot_info, ram_size));
                    P("info.dtb_addr", offsetof(struct jvfio_boot_info, dtb_addr));
                    P("info.dtb_size", offsetof(struct jvfio_boot_info, dtb_size));
                    P("info.args", offsetof(struct jvfio_boot_info, args));
                    P("info.device_count", offsetof(struct jvfio_boot_info, device_count));
                    P("info.reserved", offsetof(struct jvfio_boot_info, reserved));
                    P("info.devices", offsetof(struct jvfio_boot_info, devices));
                    return 0;
                }
                """);
        assertThat(c)
                .containsEntry("dev.size", (long) BootInfo.DEVICE_SIZE)
                .containsEntry("dev.region_count", (long) BootInfo.DEVICE_REGION_COUNT)
                .containsEntry("dev.irq_count", (long) BootInfo.DEVICE_IRQ_COUNT)
                .containsEntry("dev.region_base", (long) BootInfo.DEVICE_REGION_BASE)
                .containsEntry("dev.region_size", (long) BootInfo.DEVICE_REGION_SIZE)
                .containsEntry("dev.irq_gsi", (long) BootInfo.DEVICE_IRQ_GSI)
                .containsEntry("info.size", (long) BootInfo.SIZE)
                .containsEntry("info.ram_size", (long) BootInfo.RAM_SIZE)
                .containsEntry("info.dtb_addr", (long) BootInfo.DTB_ADDR)
                .containsEntry("info.dtb_size", (long) BootInfo.DTB_SIZE)
                .containsEntry("info.args", (long) BootInfo.ARGS)
                .containsEntry("info.device_count", (long) BootInfo.DEVICE_COUNT)
                .containsEntry("info.reserved", (long) BootInfo.RESERVED)
                .containsEntry("info.devices", (long) BootInfo.DEVICES);
    }

    @Test
    void bootInfoBytesCarryMagicArgsAndDevices() {
        byte[] bytes = BootInfo.encode(
                64 << 20,
                new long[] {7, -1},
                List.of(new BootInfo.Device(
                        "jvfio,test",
                        List.of(new BootInfo.Region(0xD0000000L, 0x1000), new BootInfo.Region(0xD0001000L, 0x2000)),
                        List.of(16))));
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(bytes).hasSize(1704);
        assertThat(b.getLong(0)).isEqualTo(0x4f4946564aL);
        assertThat(b.getLong(8)).isEqualTo(64 << 20);
        assertThat(b.getLong(16)).isZero();
        assertThat(b.getLong(32)).isEqualTo(7);
        assertThat(b.getLong(40)).isEqualTo(-1);
        assertThat(b.getLong(48)).isZero();
        assertThat(b.getInt(96)).isEqualTo(1);
        assertThat(new String(bytes, 104, 10, StandardCharsets.US_ASCII)).isEqualTo("jvfio,test");
        assertThat(bytes[114]).isZero();
        assertThat(b.getInt(104 + 32)).isEqualTo(2);
        assertThat(b.getInt(104 + 36)).isEqualTo(1);
        assertThat(b.getLong(104 + 40)).isEqualTo(0xD0000000L);
        assertThat(b.getLong(104 + 48)).isEqualTo(0xD0001000L);
        assertThat(b.getLong(104 + 104 + 8)).isEqualTo(0x2000);
        assertThat(b.getInt(104 + 168)).isEqualTo(16);
        assertThat(b.getInt(104 + 200)).isZero();
    }

    @Test
    void tooLongCompatibleOrTooManyDevicesIsRefused() {
        assertThatThrownBy(() -> new BootInfo.Device("x".repeat(32), List.of(), List.of()))
                .hasMessageContaining("longer than 31 bytes");
        BootInfo.Device d = new BootInfo.Device("d", List.of(), List.of());
        assertThatThrownBy(() -> BootInfo.encode(0, new long[0], Collections.nCopies(9, d)))
                .hasMessageContaining("at most 8 devices");
    }
}
