package io.jvfio.sys.vfio;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.iommufd.IommufdAbi;
import io.jvfio.sys.iommufd.IommufdAbi.iommu_destroy;
import io.jvfio.sys.iommufd.IommufdAbi.iommu_ioas_alloc;
import io.jvfio.sys.iommufd.IommufdAbi.iommu_ioas_map;
import io.jvfio.sys.iommufd.IommufdAbi.iommu_ioas_unmap;
import io.jvfio.sys.testing.CProbe;
import io.jvfio.sys.vfio.VfioAbi.vfio_device_attach_iommufd_pt;
import io.jvfio.sys.vfio.VfioAbi.vfio_device_bind_iommufd;
import io.jvfio.sys.vfio.VfioAbi.vfio_device_detach_iommufd_pt;
import io.jvfio.sys.vfio.VfioAbi.vfio_device_info;
import io.jvfio.sys.vfio.VfioAbi.vfio_group_status;
import io.jvfio.sys.vfio.VfioAbi.vfio_info_cap_header;
import io.jvfio.sys.vfio.VfioAbi.vfio_iommu_type1_dma_map;
import io.jvfio.sys.vfio.VfioAbi.vfio_iommu_type1_dma_unmap;
import io.jvfio.sys.vfio.VfioAbi.vfio_iommu_type1_info;
import io.jvfio.sys.vfio.VfioAbi.vfio_irq_info;
import io.jvfio.sys.vfio.VfioAbi.vfio_irq_set;
import io.jvfio.sys.vfio.VfioAbi.vfio_region_info;
import io.jvfio.sys.vfio.VfioAbi.vfio_region_info_cap_sparse_mmap;
import io.jvfio.sys.vfio.VfioAbi.vfio_region_info_cap_type;
import io.jvfio.sys.vfio.VfioAbi.vfio_region_sparse_mmap_area;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every vfio.h and iommufd.h value jvfio uses, compared with what gcc computes from the headers. This
 * machine's headers may predate iommufd (Linux 6.2) and the vfio cdev (6.6): the probe then declares
 * those structs and numbers itself, exactly as the kernel introduced them, so their layouts are still
 * checked by the compiler; the golden values below pin them independently.
 */
class VfioAbiTest {
    /** name -> (C expression, Java value). */
    private static final Map<String, Object[]> VALUES = new LinkedHashMap<>();

    private static Map<String, Long> probed;

    private static void value(String name, String cExpression, long javaValue) {
        VALUES.put(name, new Object[] {cExpression, javaValue});
    }

    private static void constant(String name, long javaValue) {
        value(name, "(unsigned long long)(" + name + ")", javaValue);
    }

    private static void size(String struct, long javaValue) {
        value("sizeof_" + struct, "sizeof(struct " + struct + ")", javaValue);
    }

    private static void offset(String struct, String field, long javaValue) {
        value(struct + "." + field, "offsetof(struct " + struct + ", " + field + ")", javaValue);
    }

    /** For structs that newer headers extend at the end: where the field jvfio sends last ends. */
    private static void end(String struct, String field, long javaSize) {
        value(
                "end_" + struct,
                "offsetof(struct " + struct + ", " + field + ") + sizeof(((struct " + struct + " *)0)->" + field + ")",
                javaSize);
    }

    static {
        for (String ioctl : new String[] {
            "VFIO_GET_API_VERSION",
            "VFIO_CHECK_EXTENSION",
            "VFIO_SET_IOMMU",
            "VFIO_GROUP_GET_STATUS",
            "VFIO_GROUP_SET_CONTAINER",
            "VFIO_GROUP_UNSET_CONTAINER",
            "VFIO_GROUP_GET_DEVICE_FD",
            "VFIO_DEVICE_GET_INFO",
            "VFIO_DEVICE_GET_REGION_INFO",
            "VFIO_DEVICE_GET_IRQ_INFO",
            "VFIO_DEVICE_SET_IRQS",
            "VFIO_DEVICE_RESET",
            "VFIO_IOMMU_GET_INFO",
            "VFIO_IOMMU_MAP_DMA",
            "VFIO_IOMMU_UNMAP_DMA",
            "VFIO_DEVICE_BIND_IOMMUFD",
            "VFIO_DEVICE_ATTACH_IOMMUFD_PT",
            "VFIO_DEVICE_DETACH_IOMMUFD_PT"
        }) {
            constant(ioctl, javaConstant(VfioAbi.class, ioctl));
        }
        for (String flag : new String[] {
            "VFIO_API_VERSION",
            "VFIO_TYPE1_IOMMU",
            "VFIO_SPAPR_TCE_IOMMU",
            "VFIO_TYPE1v2_IOMMU",
            "VFIO_DMA_CC_IOMMU",
            "VFIO_EEH",
            "VFIO_TYPE1_NESTING_IOMMU",
            "VFIO_SPAPR_TCE_v2_IOMMU",
            "VFIO_NOIOMMU_IOMMU",
            "VFIO_UNMAP_ALL",
            "VFIO_UPDATE_VADDR",
            "VFIO_GROUP_FLAGS_VIABLE",
            "VFIO_GROUP_FLAGS_CONTAINER_SET",
            "VFIO_DEVICE_FLAGS_RESET",
            "VFIO_DEVICE_FLAGS_PCI",
            "VFIO_DEVICE_FLAGS_PLATFORM",
            "VFIO_DEVICE_FLAGS_AMBA",
            "VFIO_DEVICE_FLAGS_CCW",
            "VFIO_DEVICE_FLAGS_AP",
            "VFIO_DEVICE_FLAGS_FSL_MC",
            "VFIO_DEVICE_FLAGS_CAPS",
            "VFIO_REGION_INFO_FLAG_READ",
            "VFIO_REGION_INFO_FLAG_WRITE",
            "VFIO_REGION_INFO_FLAG_MMAP",
            "VFIO_REGION_INFO_FLAG_CAPS",
            "VFIO_REGION_INFO_CAP_SPARSE_MMAP",
            "VFIO_REGION_INFO_CAP_TYPE",
            "VFIO_REGION_INFO_CAP_MSIX_MAPPABLE",
            "VFIO_IRQ_INFO_EVENTFD",
            "VFIO_IRQ_INFO_MASKABLE",
            "VFIO_IRQ_INFO_AUTOMASKED",
            "VFIO_IRQ_INFO_NORESIZE",
            "VFIO_IRQ_SET_DATA_NONE",
            "VFIO_IRQ_SET_DATA_BOOL",
            "VFIO_IRQ_SET_DATA_EVENTFD",
            "VFIO_IRQ_SET_ACTION_MASK",
            "VFIO_IRQ_SET_ACTION_UNMASK",
            "VFIO_IRQ_SET_ACTION_TRIGGER",
            "VFIO_DMA_MAP_FLAG_READ",
            "VFIO_DMA_MAP_FLAG_WRITE",
            "VFIO_IOMMU_INFO_PGSIZES",
            "VFIO_PCI_BAR0_REGION_INDEX",
            "VFIO_PCI_BAR5_REGION_INDEX",
            "VFIO_PCI_ROM_REGION_INDEX",
            "VFIO_PCI_CONFIG_REGION_INDEX",
            "VFIO_PCI_VGA_REGION_INDEX",
            "VFIO_PCI_INTX_IRQ_INDEX",
            "VFIO_PCI_MSI_IRQ_INDEX",
            "VFIO_PCI_MSIX_IRQ_INDEX",
            "VFIO_PCI_ERR_IRQ_INDEX",
            "VFIO_PCI_REQ_IRQ_INDEX"
        }) {
            constant(flag, javaConstant(VfioAbi.class, flag));
        }
        for (String name : new String[] {
            "IOMMU_DESTROY",
            "IOMMU_IOAS_ALLOC",
            "IOMMU_IOAS_MAP",
            "IOMMU_IOAS_UNMAP",
            "IOMMU_IOAS_MAP_FIXED_IOVA",
            "IOMMU_IOAS_MAP_WRITEABLE",
            "IOMMU_IOAS_MAP_READABLE"
        }) {
            constant(name, javaConstant(IommufdAbi.class, name));
        }

        size("vfio_info_cap_header", vfio_info_cap_header.SIZE);
        offset("vfio_info_cap_header", "id", vfio_info_cap_header.id);
        offset("vfio_info_cap_header", "version", vfio_info_cap_header.version);
        offset("vfio_info_cap_header", "next", vfio_info_cap_header.next);
        size("vfio_group_status", vfio_group_status.SIZE);
        offset("vfio_group_status", "argsz", vfio_group_status.argsz);
        offset("vfio_group_status", "flags", vfio_group_status.flags);
        end("vfio_device_info", "cap_offset", vfio_device_info.SIZE);
        offset("vfio_device_info", "argsz", vfio_device_info.argsz);
        offset("vfio_device_info", "flags", vfio_device_info.flags);
        offset("vfio_device_info", "num_regions", vfio_device_info.num_regions);
        offset("vfio_device_info", "num_irqs", vfio_device_info.num_irqs);
        offset("vfio_device_info", "cap_offset", vfio_device_info.cap_offset);
        size("vfio_region_info", vfio_region_info.SIZE);
        offset("vfio_region_info", "argsz", vfio_region_info.argsz);
        offset("vfio_region_info", "flags", vfio_region_info.flags);
        offset("vfio_region_info", "index", vfio_region_info.index);
        offset("vfio_region_info", "cap_offset", vfio_region_info.cap_offset);
        offset("vfio_region_info", "size", vfio_region_info.size);
        offset("vfio_region_info", "offset", vfio_region_info.offset);
        size("vfio_region_sparse_mmap_area", vfio_region_sparse_mmap_area.SIZE);
        offset("vfio_region_sparse_mmap_area", "offset", vfio_region_sparse_mmap_area.offset);
        offset("vfio_region_sparse_mmap_area", "size", vfio_region_sparse_mmap_area.size);
        size("vfio_region_info_cap_sparse_mmap", vfio_region_info_cap_sparse_mmap.SIZE);
        offset("vfio_region_info_cap_sparse_mmap", "header", vfio_region_info_cap_sparse_mmap.header);
        offset("vfio_region_info_cap_sparse_mmap", "nr_areas", vfio_region_info_cap_sparse_mmap.nr_areas);
        offset("vfio_region_info_cap_sparse_mmap", "reserved", vfio_region_info_cap_sparse_mmap.reserved);
        offset("vfio_region_info_cap_sparse_mmap", "areas", vfio_region_info_cap_sparse_mmap.areas);
        size("vfio_region_info_cap_type", vfio_region_info_cap_type.SIZE);
        offset("vfio_region_info_cap_type", "header", vfio_region_info_cap_type.header);
        offset("vfio_region_info_cap_type", "type", vfio_region_info_cap_type.type);
        offset("vfio_region_info_cap_type", "subtype", vfio_region_info_cap_type.subtype);
        size("vfio_irq_info", vfio_irq_info.SIZE);
        offset("vfio_irq_info", "argsz", vfio_irq_info.argsz);
        offset("vfio_irq_info", "flags", vfio_irq_info.flags);
        offset("vfio_irq_info", "index", vfio_irq_info.index);
        offset("vfio_irq_info", "count", vfio_irq_info.count);
        size("vfio_irq_set", vfio_irq_set.SIZE);
        offset("vfio_irq_set", "argsz", vfio_irq_set.argsz);
        offset("vfio_irq_set", "flags", vfio_irq_set.flags);
        offset("vfio_irq_set", "index", vfio_irq_set.index);
        offset("vfio_irq_set", "start", vfio_irq_set.start);
        offset("vfio_irq_set", "count", vfio_irq_set.count);
        offset("vfio_irq_set", "data", vfio_irq_set.data);
        end("vfio_iommu_type1_info", "cap_offset", vfio_iommu_type1_info.SIZE - 4);
        offset("vfio_iommu_type1_info", "argsz", vfio_iommu_type1_info.argsz);
        offset("vfio_iommu_type1_info", "flags", vfio_iommu_type1_info.flags);
        offset("vfio_iommu_type1_info", "iova_pgsizes", vfio_iommu_type1_info.iova_pgsizes);
        offset("vfio_iommu_type1_info", "cap_offset", vfio_iommu_type1_info.cap_offset);
        size("vfio_iommu_type1_dma_map", vfio_iommu_type1_dma_map.SIZE);
        offset("vfio_iommu_type1_dma_map", "argsz", vfio_iommu_type1_dma_map.argsz);
        offset("vfio_iommu_type1_dma_map", "flags", vfio_iommu_type1_dma_map.flags);
        offset("vfio_iommu_type1_dma_map", "vaddr", vfio_iommu_type1_dma_map.vaddr);
        offset("vfio_iommu_type1_dma_map", "iova", vfio_iommu_type1_dma_map.iova);
        offset("vfio_iommu_type1_dma_map", "size", vfio_iommu_type1_dma_map.size);
        size("vfio_iommu_type1_dma_unmap", vfio_iommu_type1_dma_unmap.SIZE);
        offset("vfio_iommu_type1_dma_unmap", "argsz", vfio_iommu_type1_dma_unmap.argsz);
        offset("vfio_iommu_type1_dma_unmap", "flags", vfio_iommu_type1_dma_unmap.flags);
        offset("vfio_iommu_type1_dma_unmap", "iova", vfio_iommu_type1_dma_unmap.iova);
        offset("vfio_iommu_type1_dma_unmap", "size", vfio_iommu_type1_dma_unmap.size);
        end("vfio_device_bind_iommufd", "out_devid", vfio_device_bind_iommufd.SIZE);
        offset("vfio_device_bind_iommufd", "argsz", vfio_device_bind_iommufd.argsz);
        offset("vfio_device_bind_iommufd", "flags", vfio_device_bind_iommufd.flags);
        offset("vfio_device_bind_iommufd", "iommufd", vfio_device_bind_iommufd.iommufd);
        offset("vfio_device_bind_iommufd", "out_devid", vfio_device_bind_iommufd.out_devid);
        end("vfio_device_attach_iommufd_pt", "pt_id", vfio_device_attach_iommufd_pt.SIZE);
        offset("vfio_device_attach_iommufd_pt", "argsz", vfio_device_attach_iommufd_pt.argsz);
        offset("vfio_device_attach_iommufd_pt", "flags", vfio_device_attach_iommufd_pt.flags);
        offset("vfio_device_attach_iommufd_pt", "pt_id", vfio_device_attach_iommufd_pt.pt_id);
        end("vfio_device_detach_iommufd_pt", "flags", vfio_device_detach_iommufd_pt.SIZE);
        offset("vfio_device_detach_iommufd_pt", "argsz", vfio_device_detach_iommufd_pt.argsz);
        offset("vfio_device_detach_iommufd_pt", "flags", vfio_device_detach_iommufd_pt.flags);

        size("iommu_destroy", iommu_destroy.SIZE);
        offset("iommu_destroy", "size", iommu_destroy.size);
        offset("iommu_destroy", "id", iommu_destroy.id);
        size("iommu_ioas_alloc", iommu_ioas_alloc.SIZE);
        offset("iommu_ioas_alloc", "size", iommu_ioas_alloc.size);
        offset("iommu_ioas_alloc", "flags", iommu_ioas_alloc.flags);
        offset("iommu_ioas_alloc", "out_ioas_id", iommu_ioas_alloc.out_ioas_id);
        size("iommu_ioas_map", iommu_ioas_map.SIZE);
        offset("iommu_ioas_map", "size", iommu_ioas_map.size);
        offset("iommu_ioas_map", "flags", iommu_ioas_map.flags);
        offset("iommu_ioas_map", "ioas_id", iommu_ioas_map.ioas_id);
        offset("iommu_ioas_map", "__reserved", iommu_ioas_map.__reserved);
        offset("iommu_ioas_map", "user_va", iommu_ioas_map.user_va);
        offset("iommu_ioas_map", "length", iommu_ioas_map.length);
        offset("iommu_ioas_map", "iova", iommu_ioas_map.iova);
        size("iommu_ioas_unmap", iommu_ioas_unmap.SIZE);
        offset("iommu_ioas_unmap", "size", iommu_ioas_unmap.size);
        offset("iommu_ioas_unmap", "ioas_id", iommu_ioas_unmap.ioas_id);
        offset("iommu_ioas_unmap", "iova", iommu_ioas_unmap.iova);
        offset("iommu_ioas_unmap", "length", iommu_ioas_unmap.length);
    }

    private static long javaConstant(Class<?> holder, String name) {
        try {
            return ((Number) holder.getField(name).get(null)).longValue();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(holder.getSimpleName() + " has no " + name, e);
        }
    }

    /**
     * Declarations for headers older than the feature, copied from the kernel version that introduced
     * it (iommufd.h: 6.2; vfio cdev: 6.6), used only when the installed header lacks them.
     */
    private static final String FALLBACK_DECLARATIONS = """
            #if __has_include(<linux/iommufd.h>)
            #include <linux/iommufd.h>
            #else
            #define IOMMUFD_TYPE (';')
            enum { IOMMUFD_CMD_BASE = 0x80, IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE, IOMMUFD_CMD_IOAS_ALLOC,
                   IOMMUFD_CMD_IOAS_ALLOW_IOVAS, IOMMUFD_CMD_IOAS_COPY, IOMMUFD_CMD_IOAS_IOVA_RANGES,
                   IOMMUFD_CMD_IOAS_MAP, IOMMUFD_CMD_IOAS_UNMAP };
            struct iommu_destroy { __u32 size; __u32 id; };
            #define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)
            struct iommu_ioas_alloc { __u32 size; __u32 flags; __u32 out_ioas_id; };
            #define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)
            enum iommufd_ioas_map_flags { IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0, IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
                                          IOMMU_IOAS_MAP_READABLE = 1 << 2 };
            struct iommu_ioas_map { __u32 size; __u32 flags; __u32 ioas_id; __u32 __reserved;
                                    __aligned_u64 user_va; __aligned_u64 length; __aligned_u64 iova; };
            #define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)
            struct iommu_ioas_unmap { __u32 size; __u32 ioas_id; __aligned_u64 iova; __aligned_u64 length; };
            #define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)
            #endif
            #ifndef VFIO_DEVICE_BIND_IOMMUFD
            struct vfio_device_bind_iommufd { __u32 argsz; __u32 flags; __s32 iommufd; __u32 out_devid; };
            #define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
            struct vfio_device_attach_iommufd_pt { __u32 argsz; __u32 flags; __u32 pt_id; };
            #define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
            struct vfio_device_detach_iommufd_pt { __u32 argsz; __u32 flags; };
            #define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)
            #endif
            """;

    @BeforeAll
    static void probe() throws Exception {
        StringBuilder c = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include <linux/types.h>
                #include <linux/ioctl.h>
                #include <linux/vfio.h>
                """);
        c.append(FALLBACK_DECLARATIONS);
        c.append("int main(void) {\n");
        VALUES.forEach((name, v) -> c.append("  printf(\"%s %llu\\n\", \"")
                .append(name)
                .append("\", (unsigned long long)(")
                .append(v[0])
                .append("));\n"));
        c.append("  return 0;\n}\n");
        probed = CProbe.run(c.toString());
    }

    @Test
    void everyValueEqualsWhatGccComputesFromTheHeaders() {
        Map<String, Long> java = new LinkedHashMap<>();
        VALUES.forEach((name, v) -> java.put(name, (Long) v[1]));
        assertThat(probed).as("values printed by the C probe").hasSameSizeAs(java);
        assertThat(java).containsExactlyEntriesOf(probed);
    }

    @Test
    void ioctlNumbersMatchTheirGoldenValues() {
        assertThat(VfioAbi.VFIO_GET_API_VERSION).isEqualTo(0x3B64L).isEqualTo(15204L);
        assertThat(VfioAbi.VFIO_CHECK_EXTENSION).isEqualTo(0x3B65L);
        assertThat(VfioAbi.VFIO_SET_IOMMU).isEqualTo(0x3B66L);
        assertThat(VfioAbi.VFIO_GROUP_GET_STATUS).isEqualTo(0x3B67L);
        assertThat(VfioAbi.VFIO_GROUP_SET_CONTAINER).isEqualTo(0x3B68L);
        assertThat(VfioAbi.VFIO_GROUP_UNSET_CONTAINER).isEqualTo(0x3B69L);
        assertThat(VfioAbi.VFIO_GROUP_GET_DEVICE_FD).isEqualTo(0x3B6AL);
        assertThat(VfioAbi.VFIO_DEVICE_GET_INFO).isEqualTo(0x3B6BL);
        assertThat(VfioAbi.VFIO_DEVICE_GET_REGION_INFO).isEqualTo(0x3B6CL);
        assertThat(VfioAbi.VFIO_DEVICE_GET_IRQ_INFO).isEqualTo(0x3B6DL);
        assertThat(VfioAbi.VFIO_DEVICE_SET_IRQS).isEqualTo(0x3B6EL);
        assertThat(VfioAbi.VFIO_DEVICE_RESET).isEqualTo(0x3B6FL);
        assertThat(VfioAbi.VFIO_IOMMU_GET_INFO).isEqualTo(0x3B70L);
        assertThat(VfioAbi.VFIO_IOMMU_MAP_DMA).isEqualTo(0x3B71L);
        assertThat(VfioAbi.VFIO_IOMMU_UNMAP_DMA).isEqualTo(0x3B72L);
        assertThat(VfioAbi.VFIO_DEVICE_BIND_IOMMUFD).isEqualTo(0x3B76L);
        assertThat(VfioAbi.VFIO_DEVICE_ATTACH_IOMMUFD_PT).isEqualTo(0x3B77L);
        assertThat(VfioAbi.VFIO_DEVICE_DETACH_IOMMUFD_PT).isEqualTo(0x3B78L);
        assertThat(IommufdAbi.IOMMU_DESTROY).isEqualTo(0x3B80L);
        assertThat(IommufdAbi.IOMMU_IOAS_ALLOC).isEqualTo(0x3B81L);
        assertThat(IommufdAbi.IOMMU_IOAS_MAP).isEqualTo(0x3B85L);
        assertThat(IommufdAbi.IOMMU_IOAS_UNMAP).isEqualTo(0x3B86L);
    }

    @Test
    void structSizesMatchTheirGoldenValues() {
        assertThat(vfio_region_info.SIZE).isEqualTo(32);
        assertThat(vfio_irq_set.SIZE).isEqualTo(20);
        assertThat(vfio_iommu_type1_dma_map.SIZE).isEqualTo(32);
        assertThat(vfio_iommu_type1_dma_unmap.SIZE).isEqualTo(24);
        assertThat(vfio_region_info_cap_sparse_mmap.SIZE).isEqualTo(16);
        assertThat(iommu_ioas_map.SIZE).isEqualTo(40);
        assertThat(iommu_ioas_unmap.SIZE).isEqualTo(24);
    }
}
