package io.jvfio.machine.boot.linux;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.CProbe;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The zero page's layout and flags as jvfio writes them, against what gcc computes from the kernel's
 * UAPI header asm/bootparam.h (linux-libc-dev); hvm_start_info's, which no installed header declares,
 * against the offsets Xen's start_info.h documents.
 */
class BootParamsAbiTest {
    @Test
    void zeroPageOffsetsAndFlagsMatchAsmBootparamH() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        java.put("sizeof(struct boot_params)", (long) BootParams.SIZE);
        java.put("sizeof(struct boot_e820_entry)", (long) BootParams.E820_ENTRY_SIZE);
        java.put("E820_MAX_ENTRIES_ZEROPAGE", (long) BootParams.E820_MAX_ENTRIES_ZEROPAGE);
        java.put("offsetof(struct boot_params, acpi_rsdp_addr)", (long) BootParams.ACPI_RSDP_ADDR);
        java.put("offsetof(struct boot_params, e820_entries)", (long) BootParams.E820_ENTRIES);
        java.put("offsetof(struct boot_params, hdr)", (long) BootParams.HDR);
        java.put("offsetof(struct boot_params, edd_mbr_sig_buffer)", (long) BootParams.HDR_ROOM_END);
        java.put("offsetof(struct boot_params, e820_table)", (long) BootParams.E820_TABLE);
        java.put("offsetof(struct boot_params, hdr.setup_sects)", (long) BootParams.SETUP_SECTS);
        java.put("offsetof(struct boot_params, hdr.boot_flag)", (long) BootParams.BOOT_FLAG);
        java.put("offsetof(struct boot_params, hdr.jump)", (long) BootParams.JUMP);
        java.put("offsetof(struct boot_params, hdr.header)", (long) BootParams.HEADER);
        java.put("offsetof(struct boot_params, hdr.version)", (long) BootParams.VERSION);
        java.put("offsetof(struct boot_params, hdr.type_of_loader)", (long) BootParams.TYPE_OF_LOADER);
        java.put("offsetof(struct boot_params, hdr.loadflags)", (long) BootParams.LOADFLAGS);
        java.put("offsetof(struct boot_params, hdr.ramdisk_image)", (long) BootParams.RAMDISK_IMAGE);
        java.put("offsetof(struct boot_params, hdr.ramdisk_size)", (long) BootParams.RAMDISK_SIZE);
        java.put("offsetof(struct boot_params, hdr.heap_end_ptr)", (long) BootParams.HEAP_END_PTR);
        java.put("offsetof(struct boot_params, hdr.cmd_line_ptr)", (long) BootParams.CMD_LINE_PTR);
        java.put("offsetof(struct boot_params, hdr.initrd_addr_max)", (long) BootParams.INITRD_ADDR_MAX);
        java.put("offsetof(struct boot_params, hdr.kernel_alignment)", (long) BootParams.KERNEL_ALIGNMENT);
        java.put("offsetof(struct boot_params, hdr.xloadflags)", (long) BootParams.XLOADFLAGS);
        java.put("offsetof(struct boot_params, hdr.cmdline_size)", (long) BootParams.CMDLINE_SIZE);
        java.put("offsetof(struct boot_params, hdr.pref_address)", (long) BootParams.PREF_ADDRESS);
        java.put("offsetof(struct boot_params, hdr.init_size)", (long) BootParams.INIT_SIZE);
        java.put("LOADED_HIGH", (long) BootParams.LOADED_HIGH);
        java.put("CAN_USE_HEAP", (long) BootParams.CAN_USE_HEAP);
        java.put("XLF_KERNEL_64", (long) BootParams.XLF_KERNEL_64);
        java.put("E820_RAM", (long) MemoryMap.Type.RAM.code());
        java.put("E820_RESERVED", (long) MemoryMap.Type.RESERVED.code());

        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <asm/bootparam.h>\n"
                + "#include <asm/e820.h>\nint main(void) {\n");
        int i = 0;
        for (String expression : java.keySet()) {
            c.append("    printf(\"c")
                    .append(i++)
                    .append(" %llu\\n\", (unsigned long long) (")
                    .append(expression)
                    .append("));\n");
        }
        c.append("    return 0;\n}\n");
        Map<String, Long> fromC = CProbe.run(c.toString());

        i = 0;
        for (Map.Entry<String, Long> e : java.entrySet()) {
            assertThat(e.getValue()).as(e.getKey()).isEqualTo(fromC.get("c" + i++));
        }
    }

    @Test
    void hvmStartInfoOffsetsAreThoseXensHeaderDocuments() {
        assertThat(HvmStartInfo.MAGIC_VALUE).isEqualTo(0x336ec578);
        assertThat(new int[] {
                    HvmStartInfo.MAGIC,
                    HvmStartInfo.VERSION_FIELD,
                    HvmStartInfo.NR_MODULES,
                    HvmStartInfo.MODLIST_PADDR,
                    HvmStartInfo.CMDLINE_PADDR,
                    HvmStartInfo.RSDP_PADDR,
                    HvmStartInfo.MEMMAP_PADDR,
                    HvmStartInfo.MEMMAP_ENTRIES,
                    HvmStartInfo.SIZE
                })
                .containsExactly(0, 4, 12, 16, 24, 32, 40, 48, 56);
        assertThat(new int[] {
                    HvmStartInfo.MODLIST_ENTRY_PADDR,
                    HvmStartInfo.MODLIST_ENTRY_SIZE_FIELD,
                    HvmStartInfo.MODLIST_ENTRY_SIZE
                })
                .containsExactly(0, 8, 32);
        assertThat(new int[] {
                    HvmStartInfo.MEMMAP_ENTRY_ADDR,
                    HvmStartInfo.MEMMAP_ENTRY_SIZE_FIELD,
                    HvmStartInfo.MEMMAP_ENTRY_TYPE,
                    HvmStartInfo.MEMMAP_ENTRY_SIZE
                })
                .containsExactly(0, 8, 16, 24);
    }
}
