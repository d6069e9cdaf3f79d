package io.jvfio.sys.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.kvm.vcpu.DescriptorTable;
import io.jvfio.sys.kvm.vcpu.Segment;
import io.jvfio.sys.kvm.vcpu.Sregs;
import io.jvfio.sys.testing.CProbe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every kvm.h constant and layout jvfio uses, compared with what gcc computes from the installed headers. */
class KvmAbiTest {
    private record Check(String name, String c, long java) {}

    private static final List<Check> CHECKS = new ArrayList<>();
    private static Map<String, Long> fromC;

    private static void c(String name, String cExpression, long javaValue) {
        CHECKS.add(new Check(name, cExpression, javaValue));
    }

    private static void constant(String name, long javaValue) {
        c(name, name, javaValue);
    }

    private static void size(String struct, long javaValue) {
        c("sizeof." + struct, "sizeof(struct " + struct + ")", javaValue);
    }

    private static void field(String struct, String member, long javaValue) {
        c(struct + "." + member, "offsetof(struct " + struct + ", " + member + ")", javaValue);
    }

    static {
        constant("KVM_API_VERSION", KvmAbi.KVM_API_VERSION);
        constant("KVM_GET_API_VERSION", KvmAbi.KVM_GET_API_VERSION);
        constant("KVM_CREATE_VM", KvmAbi.KVM_CREATE_VM);
        constant("KVM_CHECK_EXTENSION", KvmAbi.KVM_CHECK_EXTENSION);
        constant("KVM_GET_VCPU_MMAP_SIZE", KvmAbi.KVM_GET_VCPU_MMAP_SIZE);
        constant("KVM_GET_SUPPORTED_CPUID", KvmAbi.KVM_GET_SUPPORTED_CPUID);
        constant("KVM_CREATE_VCPU", KvmAbi.KVM_CREATE_VCPU);
        constant("KVM_SET_USER_MEMORY_REGION", KvmAbi.KVM_SET_USER_MEMORY_REGION);
        constant("KVM_SET_TSS_ADDR", KvmAbi.KVM_SET_TSS_ADDR);
        constant("KVM_SET_IDENTITY_MAP_ADDR", KvmAbi.KVM_SET_IDENTITY_MAP_ADDR);
        constant("KVM_CREATE_IRQCHIP", KvmAbi.KVM_CREATE_IRQCHIP);
        constant("KVM_IRQ_LINE", KvmAbi.KVM_IRQ_LINE);
        constant("KVM_GET_IRQCHIP", KvmAbi.KVM_GET_IRQCHIP);
        constant("KVM_SET_IRQCHIP", KvmAbi.KVM_SET_IRQCHIP);
        constant("KVM_IRQ_LINE_STATUS", KvmAbi.KVM_IRQ_LINE_STATUS);
        constant("KVM_SET_GSI_ROUTING", KvmAbi.KVM_SET_GSI_ROUTING);
        constant("KVM_IRQFD", KvmAbi.KVM_IRQFD);
        constant("KVM_IOEVENTFD", KvmAbi.KVM_IOEVENTFD);
        constant("KVM_REGISTER_COALESCED_MMIO", KvmAbi.KVM_REGISTER_COALESCED_MMIO);
        constant("KVM_UNREGISTER_COALESCED_MMIO", KvmAbi.KVM_UNREGISTER_COALESCED_MMIO);
        constant("KVM_CAP_COALESCED_MMIO", KvmAbi.KVM_CAP_COALESCED_MMIO);
        size("kvm_coalesced_mmio_zone", KvmAbi.kvm_coalesced_mmio_zone.SIZE);
        field("kvm_coalesced_mmio_zone", "addr", KvmAbi.kvm_coalesced_mmio_zone.addr);
        field("kvm_coalesced_mmio_zone", "size", KvmAbi.kvm_coalesced_mmio_zone.size);
        field("kvm_coalesced_mmio_zone", "pio", KvmAbi.kvm_coalesced_mmio_zone.pio);
        size("kvm_coalesced_mmio", KvmAbi.kvm_coalesced_mmio.SIZE);
        field("kvm_coalesced_mmio", "phys_addr", KvmAbi.kvm_coalesced_mmio.phys_addr);
        field("kvm_coalesced_mmio", "len", KvmAbi.kvm_coalesced_mmio.len);
        field("kvm_coalesced_mmio", "pio", KvmAbi.kvm_coalesced_mmio.pio);
        field("kvm_coalesced_mmio", "data", KvmAbi.kvm_coalesced_mmio.data);
        size("kvm_coalesced_mmio_ring", KvmAbi.kvm_coalesced_mmio_ring.SIZE);
        field("kvm_coalesced_mmio_ring", "first", KvmAbi.kvm_coalesced_mmio_ring.first);
        field("kvm_coalesced_mmio_ring", "last", KvmAbi.kvm_coalesced_mmio_ring.last);
        field("kvm_coalesced_mmio_ring", "coalesced_mmio", KvmAbi.kvm_coalesced_mmio_ring.coalesced_mmio);
        c(
                "KVM_COALESCED_MMIO_MAX",
                "((4096 - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio))",
                KvmAbi.kvm_coalesced_mmio_ring.KVM_COALESCED_MMIO_MAX);
        constant("KVM_RUN", KvmAbi.KVM_RUN);
        constant("KVM_GET_REGS", KvmAbi.KVM_GET_REGS);
        constant("KVM_SET_REGS", KvmAbi.KVM_SET_REGS);
        constant("KVM_GET_SREGS", KvmAbi.KVM_GET_SREGS);
        constant("KVM_SET_SREGS", KvmAbi.KVM_SET_SREGS);
        constant("KVM_GET_MSRS", KvmAbi.KVM_GET_MSRS);
        constant("KVM_SET_MSRS", KvmAbi.KVM_SET_MSRS);
        constant("KVM_GET_LAPIC", KvmAbi.KVM_GET_LAPIC);
        constant("KVM_SET_LAPIC", KvmAbi.KVM_SET_LAPIC);
        constant("KVM_SET_CPUID2", KvmAbi.KVM_SET_CPUID2);
        constant("KVM_INTERRUPT", KvmAbi.KVM_INTERRUPT);
        constant("KVM_GET_TSC_KHZ", KvmAbi.KVM_GET_TSC_KHZ);
        constant("KVM_CAP_GET_TSC_KHZ", KvmAbi.KVM_CAP_GET_TSC_KHZ);
        size("kvm_interrupt", KvmAbi.kvm_interrupt.SIZE);
        field("kvm_interrupt", "irq", KvmAbi.kvm_interrupt.irq);
        constant("KVM_SIGNAL_MSI", KvmAbi.KVM_SIGNAL_MSI);

        constant("KVM_CAP_IRQCHIP", KvmAbi.KVM_CAP_IRQCHIP);
        constant("KVM_CAP_USER_MEMORY", KvmAbi.KVM_CAP_USER_MEMORY);
        constant("KVM_CAP_SET_TSS_ADDR", KvmAbi.KVM_CAP_SET_TSS_ADDR);
        constant("KVM_CAP_EXT_CPUID", KvmAbi.KVM_CAP_EXT_CPUID);
        constant("KVM_CAP_NR_VCPUS", KvmAbi.KVM_CAP_NR_VCPUS);
        constant("KVM_CAP_NR_MEMSLOTS", KvmAbi.KVM_CAP_NR_MEMSLOTS);
        constant("KVM_CAP_SYNC_MMU", KvmAbi.KVM_CAP_SYNC_MMU);
        constant("KVM_CAP_IRQ_ROUTING", KvmAbi.KVM_CAP_IRQ_ROUTING);
        constant("KVM_CAP_IRQ_INJECT_STATUS", KvmAbi.KVM_CAP_IRQ_INJECT_STATUS);
        constant("KVM_CAP_IRQFD", KvmAbi.KVM_CAP_IRQFD);
        constant("KVM_CAP_IOEVENTFD", KvmAbi.KVM_CAP_IOEVENTFD);
        constant("KVM_CAP_SET_IDENTITY_MAP_ADDR", KvmAbi.KVM_CAP_SET_IDENTITY_MAP_ADDR);
        constant("KVM_CAP_MAX_VCPUS", KvmAbi.KVM_CAP_MAX_VCPUS);
        constant("KVM_CAP_SIGNAL_MSI", KvmAbi.KVM_CAP_SIGNAL_MSI);
        constant("KVM_CAP_READONLY_MEM", KvmAbi.KVM_CAP_READONLY_MEM);
        constant("KVM_CAP_IRQFD_RESAMPLE", KvmAbi.KVM_CAP_IRQFD_RESAMPLE);
        constant("KVM_CAP_IMMEDIATE_EXIT", KvmAbi.KVM_CAP_IMMEDIATE_EXIT);

        constant("KVM_EXIT_UNKNOWN", KvmAbi.KVM_EXIT_UNKNOWN);
        constant("KVM_EXIT_EXCEPTION", KvmAbi.KVM_EXIT_EXCEPTION);
        constant("KVM_EXIT_IO", KvmAbi.KVM_EXIT_IO);
        constant("KVM_EXIT_HYPERCALL", KvmAbi.KVM_EXIT_HYPERCALL);
        constant("KVM_EXIT_DEBUG", KvmAbi.KVM_EXIT_DEBUG);
        constant("KVM_EXIT_HLT", KvmAbi.KVM_EXIT_HLT);
        constant("KVM_EXIT_MMIO", KvmAbi.KVM_EXIT_MMIO);
        constant("KVM_EXIT_IRQ_WINDOW_OPEN", KvmAbi.KVM_EXIT_IRQ_WINDOW_OPEN);
        constant("KVM_EXIT_SHUTDOWN", KvmAbi.KVM_EXIT_SHUTDOWN);
        constant("KVM_EXIT_FAIL_ENTRY", KvmAbi.KVM_EXIT_FAIL_ENTRY);
        constant("KVM_EXIT_INTR", KvmAbi.KVM_EXIT_INTR);
        constant("KVM_EXIT_NMI", KvmAbi.KVM_EXIT_NMI);
        constant("KVM_EXIT_INTERNAL_ERROR", KvmAbi.KVM_EXIT_INTERNAL_ERROR);
        constant("KVM_EXIT_SYSTEM_EVENT", KvmAbi.KVM_EXIT_SYSTEM_EVENT);
        constant("KVM_EXIT_IOAPIC_EOI", KvmAbi.KVM_EXIT_IOAPIC_EOI);
        constant("KVM_EXIT_SET_TPR", KvmAbi.KVM_EXIT_SET_TPR);
        constant("KVM_EXIT_IO_IN", KvmAbi.KVM_EXIT_IO_IN);
        constant("KVM_EXIT_IO_OUT", KvmAbi.KVM_EXIT_IO_OUT);
        constant("KVM_INTERNAL_ERROR_EMULATION", KvmAbi.KVM_INTERNAL_ERROR_EMULATION);
        constant("KVM_INTERNAL_ERROR_SIMUL_EX", KvmAbi.KVM_INTERNAL_ERROR_SIMUL_EX);
        constant("KVM_INTERNAL_ERROR_DELIVERY_EV", KvmAbi.KVM_INTERNAL_ERROR_DELIVERY_EV);
        constant("KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON", KvmAbi.KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
        constant("KVM_SYSTEM_EVENT_SHUTDOWN", KvmAbi.KVM_SYSTEM_EVENT_SHUTDOWN);
        constant("KVM_SYSTEM_EVENT_RESET", KvmAbi.KVM_SYSTEM_EVENT_RESET);
        constant("KVM_SYSTEM_EVENT_CRASH", KvmAbi.KVM_SYSTEM_EVENT_CRASH);
        constant("KVM_MEM_LOG_DIRTY_PAGES", KvmAbi.KVM_MEM_LOG_DIRTY_PAGES);
        constant("KVM_MEM_READONLY", KvmAbi.KVM_MEM_READONLY);
        constant("KVM_IRQFD_FLAG_DEASSIGN", KvmAbi.KVM_IRQFD_FLAG_DEASSIGN);
        constant("KVM_IRQFD_FLAG_RESAMPLE", KvmAbi.KVM_IRQFD_FLAG_RESAMPLE);
        constant("KVM_IOEVENTFD_FLAG_DATAMATCH", KvmAbi.KVM_IOEVENTFD_FLAG_DATAMATCH);
        constant("KVM_IOEVENTFD_FLAG_PIO", KvmAbi.KVM_IOEVENTFD_FLAG_PIO);
        constant("KVM_IOEVENTFD_FLAG_DEASSIGN", KvmAbi.KVM_IOEVENTFD_FLAG_DEASSIGN);
        constant("KVM_IRQ_ROUTING_IRQCHIP", KvmAbi.KVM_IRQ_ROUTING_IRQCHIP);
        constant("KVM_IRQCHIP_PIC_MASTER", KvmAbi.KVM_IRQCHIP_PIC_MASTER);
        constant("KVM_IRQCHIP_PIC_SLAVE", KvmAbi.KVM_IRQCHIP_PIC_SLAVE);
        constant("KVM_IRQCHIP_IOAPIC", KvmAbi.KVM_IRQCHIP_IOAPIC);
        constant("KVM_IOAPIC_NUM_PINS", KvmAbi.kvm_ioapic_state.KVM_IOAPIC_NUM_PINS);
        constant("KVM_CPUID_FLAG_SIGNIFCANT_INDEX", KvmAbi.KVM_CPUID_FLAG_SIGNIFCANT_INDEX);

        size("kvm_run", KvmAbi.kvm_run.SIZE);
        field("kvm_run", "request_interrupt_window", KvmAbi.kvm_run.request_interrupt_window);
        field("kvm_run", "immediate_exit", KvmAbi.kvm_run.immediate_exit);
        field("kvm_run", "exit_reason", KvmAbi.kvm_run.exit_reason);
        field("kvm_run", "ready_for_interrupt_injection", KvmAbi.kvm_run.ready_for_interrupt_injection);
        field("kvm_run", "if_flag", KvmAbi.kvm_run.if_flag);
        field("kvm_run", "flags", KvmAbi.kvm_run.flags);
        field("kvm_run", "cr8", KvmAbi.kvm_run.cr8);
        field("kvm_run", "apic_base", KvmAbi.kvm_run.apic_base);
        field("kvm_run", "hw.hardware_exit_reason", KvmAbi.kvm_run.hw_hardware_exit_reason);
        field(
                "kvm_run",
                "fail_entry.hardware_entry_failure_reason",
                KvmAbi.kvm_run.fail_entry_hardware_entry_failure_reason);
        field("kvm_run", "fail_entry.cpu", KvmAbi.kvm_run.fail_entry_cpu);
        field("kvm_run", "ex.exception", KvmAbi.kvm_run.ex_exception);
        field("kvm_run", "ex.error_code", KvmAbi.kvm_run.ex_error_code);
        field("kvm_run", "io.direction", KvmAbi.kvm_run.io_direction);
        field("kvm_run", "io.size", KvmAbi.kvm_run.io_size);
        field("kvm_run", "io.port", KvmAbi.kvm_run.io_port);
        field("kvm_run", "io.count", KvmAbi.kvm_run.io_count);
        field("kvm_run", "io.data_offset", KvmAbi.kvm_run.io_data_offset);
        field("kvm_run", "mmio.phys_addr", KvmAbi.kvm_run.mmio_phys_addr);
        field("kvm_run", "mmio.data", KvmAbi.kvm_run.mmio_data);
        field("kvm_run", "mmio.len", KvmAbi.kvm_run.mmio_len);
        field("kvm_run", "mmio.is_write", KvmAbi.kvm_run.mmio_is_write);
        field("kvm_run", "internal.suberror", KvmAbi.kvm_run.internal_suberror);
        field("kvm_run", "internal.ndata", KvmAbi.kvm_run.internal_ndata);
        field("kvm_run", "internal.data", KvmAbi.kvm_run.internal_data);
        field("kvm_run", "system_event.type", KvmAbi.kvm_run.system_event_type);
        field("kvm_run", "system_event.ndata", KvmAbi.kvm_run.system_event_ndata);
        field("kvm_run", "system_event.data", KvmAbi.kvm_run.system_event_data);

        size("kvm_userspace_memory_region", KvmAbi.kvm_userspace_memory_region.SIZE);
        field("kvm_userspace_memory_region", "slot", KvmAbi.kvm_userspace_memory_region.slot);
        field("kvm_userspace_memory_region", "flags", KvmAbi.kvm_userspace_memory_region.flags);
        field("kvm_userspace_memory_region", "guest_phys_addr", KvmAbi.kvm_userspace_memory_region.guest_phys_addr);
        field("kvm_userspace_memory_region", "memory_size", KvmAbi.kvm_userspace_memory_region.memory_size);
        field("kvm_userspace_memory_region", "userspace_addr", KvmAbi.kvm_userspace_memory_region.userspace_addr);

        size("kvm_irq_level", KvmAbi.kvm_irq_level.SIZE);
        field("kvm_irq_level", "irq", KvmAbi.kvm_irq_level.irq);
        field("kvm_irq_level", "status", KvmAbi.kvm_irq_level.status);
        field("kvm_irq_level", "level", KvmAbi.kvm_irq_level.level);

        size("kvm_irqchip", KvmAbi.kvm_irqchip.SIZE);
        field("kvm_irqchip", "chip_id", KvmAbi.kvm_irqchip.chip_id);
        field("kvm_irqchip", "chip", KvmAbi.kvm_irqchip.chip);
        size("kvm_ioapic_state", KvmAbi.kvm_ioapic_state.SIZE);
        field("kvm_ioapic_state", "base_address", KvmAbi.kvm_ioapic_state.base_address);
        field("kvm_ioapic_state", "ioregsel", KvmAbi.kvm_ioapic_state.ioregsel);
        field("kvm_ioapic_state", "id", KvmAbi.kvm_ioapic_state.id);
        field("kvm_ioapic_state", "irr", KvmAbi.kvm_ioapic_state.irr);
        field("kvm_ioapic_state", "redirtbl", KvmAbi.kvm_ioapic_state.redirtbl);

        size("kvm_lapic_state", KvmAbi.kvm_lapic_state.SIZE);
        field("kvm_lapic_state", "regs", KvmAbi.kvm_lapic_state.regs);
        constant("KVM_APIC_REG_SIZE", KvmAbi.kvm_lapic_state.KVM_APIC_REG_SIZE);

        size("kvm_msi", KvmAbi.kvm_msi.SIZE);
        field("kvm_msi", "address_lo", KvmAbi.kvm_msi.address_lo);
        field("kvm_msi", "address_hi", KvmAbi.kvm_msi.address_hi);
        field("kvm_msi", "data", KvmAbi.kvm_msi.data);
        field("kvm_msi", "flags", KvmAbi.kvm_msi.flags);
        field("kvm_msi", "devid", KvmAbi.kvm_msi.devid);

        size("kvm_irq_routing", KvmAbi.kvm_irq_routing.SIZE);
        field("kvm_irq_routing", "nr", KvmAbi.kvm_irq_routing.nr);
        field("kvm_irq_routing", "flags", KvmAbi.kvm_irq_routing.flags);
        field("kvm_irq_routing", "entries", KvmAbi.kvm_irq_routing.entries);
        size("kvm_irq_routing_entry", KvmAbi.kvm_irq_routing_entry.SIZE);
        field("kvm_irq_routing_entry", "gsi", KvmAbi.kvm_irq_routing_entry.gsi);
        field("kvm_irq_routing_entry", "type", KvmAbi.kvm_irq_routing_entry.type);
        field("kvm_irq_routing_entry", "flags", KvmAbi.kvm_irq_routing_entry.flags);
        field("kvm_irq_routing_entry", "u.irqchip.irqchip", KvmAbi.kvm_irq_routing_entry.u_irqchip_irqchip);
        field("kvm_irq_routing_entry", "u.irqchip.pin", KvmAbi.kvm_irq_routing_entry.u_irqchip_pin);

        size("kvm_irqfd", KvmAbi.kvm_irqfd.SIZE);
        field("kvm_irqfd", "fd", KvmAbi.kvm_irqfd.fd);
        field("kvm_irqfd", "gsi", KvmAbi.kvm_irqfd.gsi);
        field("kvm_irqfd", "flags", KvmAbi.kvm_irqfd.flags);
        field("kvm_irqfd", "resamplefd", KvmAbi.kvm_irqfd.resamplefd);

        size("kvm_ioeventfd", KvmAbi.kvm_ioeventfd.SIZE);
        field("kvm_ioeventfd", "datamatch", KvmAbi.kvm_ioeventfd.datamatch);
        field("kvm_ioeventfd", "addr", KvmAbi.kvm_ioeventfd.addr);
        field("kvm_ioeventfd", "len", KvmAbi.kvm_ioeventfd.len);
        field("kvm_ioeventfd", "fd", KvmAbi.kvm_ioeventfd.fd);
        field("kvm_ioeventfd", "flags", KvmAbi.kvm_ioeventfd.flags);

        size("kvm_regs", KvmAbi.kvm_regs.SIZE);
        field("kvm_regs", "rax", KvmAbi.kvm_regs.rax);
        field("kvm_regs", "rdi", KvmAbi.kvm_regs.rdi);
        field("kvm_regs", "rsp", KvmAbi.kvm_regs.rsp);
        field("kvm_regs", "r8", KvmAbi.kvm_regs.r8);
        field("kvm_regs", "r15", KvmAbi.kvm_regs.r15);
        field("kvm_regs", "rip", KvmAbi.kvm_regs.rip);
        field("kvm_regs", "rflags", KvmAbi.kvm_regs.rflags);

        size("kvm_segment", KvmAbi.kvm_segment.SIZE);
        for (String[] f : new String[][] {
            {"base", "" + KvmAbi.kvm_segment.base},
            {"limit", "" + KvmAbi.kvm_segment.limit},
            {"selector", "" + KvmAbi.kvm_segment.selector},
            {"type", "" + KvmAbi.kvm_segment.type},
            {"present", "" + KvmAbi.kvm_segment.present},
            {"dpl", "" + KvmAbi.kvm_segment.dpl},
            {"db", "" + KvmAbi.kvm_segment.db},
            {"s", "" + KvmAbi.kvm_segment.s},
            {"l", "" + KvmAbi.kvm_segment.l},
            {"g", "" + KvmAbi.kvm_segment.g},
            {"avl", "" + KvmAbi.kvm_segment.avl},
            {"unusable", "" + KvmAbi.kvm_segment.unusable}
        }) {
            field("kvm_segment", f[0], Long.parseLong(f[1]));
        }
        size("kvm_dtable", KvmAbi.kvm_dtable.SIZE);
        field("kvm_dtable", "base", KvmAbi.kvm_dtable.base);
        field("kvm_dtable", "limit", KvmAbi.kvm_dtable.limit);

        size("kvm_sregs", KvmAbi.kvm_sregs.SIZE);
        field("kvm_sregs", "cs", KvmAbi.kvm_sregs.cs);
        field("kvm_sregs", "ds", KvmAbi.kvm_sregs.ds);
        field("kvm_sregs", "es", KvmAbi.kvm_sregs.es);
        field("kvm_sregs", "fs", KvmAbi.kvm_sregs.fs);
        field("kvm_sregs", "gs", KvmAbi.kvm_sregs.gs);
        field("kvm_sregs", "ss", KvmAbi.kvm_sregs.ss);
        field("kvm_sregs", "tr", KvmAbi.kvm_sregs.tr);
        field("kvm_sregs", "ldt", KvmAbi.kvm_sregs.ldt);
        field("kvm_sregs", "gdt", KvmAbi.kvm_sregs.gdt);
        field("kvm_sregs", "idt", KvmAbi.kvm_sregs.idt);
        field("kvm_sregs", "cr0", KvmAbi.kvm_sregs.cr0);
        field("kvm_sregs", "cr2", KvmAbi.kvm_sregs.cr2);
        field("kvm_sregs", "cr3", KvmAbi.kvm_sregs.cr3);
        field("kvm_sregs", "cr4", KvmAbi.kvm_sregs.cr4);
        field("kvm_sregs", "cr8", KvmAbi.kvm_sregs.cr8);
        field("kvm_sregs", "efer", KvmAbi.kvm_sregs.efer);
        field("kvm_sregs", "apic_base", KvmAbi.kvm_sregs.apic_base);
        field("kvm_sregs", "interrupt_bitmap", KvmAbi.kvm_sregs.interrupt_bitmap);
        c(
                "kvm_sregs.interrupt_bitmap.words",
                "sizeof(((struct kvm_sregs *)0)->interrupt_bitmap) / 8",
                KvmAbi.kvm_sregs.INTERRUPT_BITMAP_WORDS);

        size("kvm_msr_entry", KvmAbi.kvm_msr_entry.SIZE);
        field("kvm_msr_entry", "index", KvmAbi.kvm_msr_entry.index);
        field("kvm_msr_entry", "data", KvmAbi.kvm_msr_entry.data);
        size("kvm_msrs", KvmAbi.kvm_msrs.SIZE);
        field("kvm_msrs", "nmsrs", KvmAbi.kvm_msrs.nmsrs);
        field("kvm_msrs", "entries", KvmAbi.kvm_msrs.entries);

        size("kvm_cpuid_entry2", KvmAbi.kvm_cpuid_entry2.SIZE);
        field("kvm_cpuid_entry2", "function", KvmAbi.kvm_cpuid_entry2.function);
        field("kvm_cpuid_entry2", "index", KvmAbi.kvm_cpuid_entry2.index);
        field("kvm_cpuid_entry2", "flags", KvmAbi.kvm_cpuid_entry2.flags);
        field("kvm_cpuid_entry2", "eax", KvmAbi.kvm_cpuid_entry2.eax);
        field("kvm_cpuid_entry2", "ebx", KvmAbi.kvm_cpuid_entry2.ebx);
        field("kvm_cpuid_entry2", "ecx", KvmAbi.kvm_cpuid_entry2.ecx);
        field("kvm_cpuid_entry2", "edx", KvmAbi.kvm_cpuid_entry2.edx);
        size("kvm_cpuid2", KvmAbi.kvm_cpuid2.SIZE);
        field("kvm_cpuid2", "nent", KvmAbi.kvm_cpuid2.nent);
        field("kvm_cpuid2", "entries", KvmAbi.kvm_cpuid2.entries);
    }

    @BeforeAll
    static void compileProbe() throws Exception {
        StringBuilder source = new StringBuilder("""
                #include <stdio.h>
                #include <stddef.h>
                #include <linux/kvm.h>
                int main(void) {
                """);
        for (Check check : CHECKS) {
            source.append("    printf(\"%s %llu\\n\", \"")
                    .append(check.name())
                    .append("\", (unsigned long long)(")
                    .append(check.c())
                    .append("));\n");
        }
        source.append("    return 0;\n}\n");
        fromC = CProbe.run(source.toString());
    }

    @Test
    void everyConstantAndLayoutEqualsTheHeaders() {
        List<String> mismatches = new ArrayList<>();
        for (Check check : CHECKS) {
            Long c = fromC.get(check.name());
            if (c == null || c != check.java()) {
                mismatches.add(check.name() + ": C " + c + ", Java " + check.java());
            }
        }
        assertThat(mismatches).as("kvm.h values that differ from KvmAbi").isEmpty();
        assertThat(fromC).hasSize(CHECKS.size());
    }

    @Test
    void goldenIoctlNumbersArePinned() {
        assertThat(KvmAbi.KVM_GET_API_VERSION).isEqualTo(0xAE00);
        assertThat(KvmAbi.KVM_RUN).isEqualTo(0xAE80);
        assertThat(KvmAbi.KVM_CREATE_VCPU).isEqualTo(0xAE41);
        assertThat(KvmAbi.KVM_SET_USER_MEMORY_REGION).isEqualTo(0x4020AE46L);
        assertThat(KvmAbi.KVM_IRQFD).isEqualTo(0x4020AE76L);
        assertThat(KvmAbi.KVM_GET_REGS).isEqualTo(0x8090AE81L);
        assertThat(KvmAbi.KVM_SET_IRQCHIP).isEqualTo(0x8208AE63L);
        assertThat(KvmAbi.KVM_GET_LAPIC).isEqualTo(0x8400AE8EL);
        assertThat(KvmAbi.KVM_SET_LAPIC).isEqualTo(0x4400AE8FL);
        assertThat(KvmAbi.KVM_SIGNAL_MSI).isEqualTo(0x4020AEA5L);
    }

    @Test
    void designDocumentOffsetsHold() {
        assertThat(KvmAbi.kvm_run.immediate_exit).isEqualTo(1);
        assertThat(KvmAbi.kvm_run.exit_reason).isEqualTo(8);
        assertThat(KvmAbi.kvm_run.io_port).isEqualTo(34);
        assertThat(KvmAbi.kvm_run.io_data_offset).isEqualTo(40);
        assertThat(KvmAbi.kvm_run.mmio_phys_addr).isEqualTo(32);
        assertThat(KvmAbi.kvm_run.mmio_is_write).isEqualTo(52);
        assertThat(KvmAbi.kvm_sregs.SIZE).isEqualTo(312);
        assertThat(KvmAbi.kvm_regs.SIZE).isEqualTo(144);
    }

    @Test
    void sregsRoundTripThroughTheNativeLayout() {
        Segment code = new Segment(0, 0xFFFFFFFF, 0x08, 11, true, 0, false, true, true, true, false, false);
        Segment data = new Segment(0x1000, 0xFFFFF, 0x10, 3, true, 3, true, true, false, true, true, true);
        Sregs sregs = new Sregs(
                code,
                data,
                data,
                data,
                data,
                data,
                code,
                data,
                new DescriptorTable(0x500, 0x17),
                new DescriptorTable(0xABCDEF, 0xFFF),
                0x80050033L,
                2,
                0x1000,
                0x20,
                0,
                0x500,
                0xFEE00900L,
                new long[] {1, 2, 3, 4});
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native_ = arena.allocate(KvmAbi.kvm_sregs.SIZE, 8);
            KvmIoctls.encodeSregs(sregs, native_);
            Sregs back = KvmIoctls.decodeSregs(native_);
            assertThat(back).usingRecursiveComparison().isEqualTo(sregs);
            assertThat(native_.get(ValueLayout.JAVA_SHORT, KvmAbi.kvm_sregs.cs + KvmAbi.kvm_segment.selector))
                    .isEqualTo((short) 0x08);
        }
    }
}
