package io.jvfio.sys.kvm;

import io.jvfio.sys.Ioctl;

/**
 * The kvm.h ABI for x86-64 as jvfio uses it: ioctl numbers, capability numbers, exit reasons, and the
 * sizes and field offsets of the structs passed to the ioctls. Names are the header's, verbatim, so they
 * grep against {@code linux/kvm.h} and {@code asm/kvm.h}; a struct's fields live in a nested class named
 * after the struct ({@code kvm_run.io_port} is {@code offsetof(struct kvm_run, io.port)}). A test
 * compiles a C program against the installed headers and compares every value here.
 */
public final class KvmAbi {
    public static final int KVMIO = 0xAE;
    /** The only API version jvfio (and every kernel since 2.6.22) speaks. */
    public static final int KVM_API_VERSION = 12;

    public static final long KVM_GET_API_VERSION = Ioctl.io(KVMIO, 0x00);
    public static final long KVM_CREATE_VM = Ioctl.io(KVMIO, 0x01);
    public static final long KVM_CHECK_EXTENSION = Ioctl.io(KVMIO, 0x03);
    public static final long KVM_GET_VCPU_MMAP_SIZE = Ioctl.io(KVMIO, 0x04);
    public static final long KVM_GET_SUPPORTED_CPUID = Ioctl.iowr(KVMIO, 0x05, kvm_cpuid2.SIZE);
    public static final long KVM_CREATE_VCPU = Ioctl.io(KVMIO, 0x41);
    public static final long KVM_SET_USER_MEMORY_REGION = Ioctl.iow(KVMIO, 0x46, kvm_userspace_memory_region.SIZE);
    public static final long KVM_SET_TSS_ADDR = Ioctl.io(KVMIO, 0x47);
    public static final long KVM_SET_IDENTITY_MAP_ADDR = Ioctl.iow(KVMIO, 0x48, 8);
    public static final long KVM_CREATE_IRQCHIP = Ioctl.io(KVMIO, 0x60);
    public static final long KVM_IRQ_LINE = Ioctl.iow(KVMIO, 0x61, kvm_irq_level.SIZE);
    public static final long KVM_GET_IRQCHIP = Ioctl.iowr(KVMIO, 0x62, kvm_irqchip.SIZE);
    /** _IOR although the state goes in: the header defines it so, and the number is the ABI. */
    public static final long KVM_SET_IRQCHIP = Ioctl.ior(KVMIO, 0x63, kvm_irqchip.SIZE);

    public static final long KVM_IRQ_LINE_STATUS = Ioctl.iowr(KVMIO, 0x67, kvm_irq_level.SIZE);
    public static final long KVM_REGISTER_COALESCED_MMIO = Ioctl.iow(KVMIO, 0x67, kvm_coalesced_mmio_zone.SIZE);
    public static final long KVM_UNREGISTER_COALESCED_MMIO = Ioctl.iow(KVMIO, 0x68, kvm_coalesced_mmio_zone.SIZE);
    public static final long KVM_SET_GSI_ROUTING = Ioctl.iow(KVMIO, 0x6a, kvm_irq_routing.SIZE);
    public static final long KVM_IRQFD = Ioctl.iow(KVMIO, 0x76, kvm_irqfd.SIZE);
    public static final long KVM_IOEVENTFD = Ioctl.iow(KVMIO, 0x79, kvm_ioeventfd.SIZE);
    public static final long KVM_RUN = Ioctl.io(KVMIO, 0x80);
    public static final long KVM_GET_REGS = Ioctl.ior(KVMIO, 0x81, kvm_regs.SIZE);
    public static final long KVM_SET_REGS = Ioctl.iow(KVMIO, 0x82, kvm_regs.SIZE);
    public static final long KVM_GET_SREGS = Ioctl.ior(KVMIO, 0x83, kvm_sregs.SIZE);
    public static final long KVM_SET_SREGS = Ioctl.iow(KVMIO, 0x84, kvm_sregs.SIZE);
    public static final long KVM_INTERRUPT = Ioctl.iow(KVMIO, 0x86, kvm_interrupt.SIZE);
    public static final long KVM_GET_MSRS = Ioctl.iowr(KVMIO, 0x88, kvm_msrs.SIZE);
    public static final long KVM_SET_MSRS = Ioctl.iow(KVMIO, 0x89, kvm_msrs.SIZE);
    public static final long KVM_GET_LAPIC = Ioctl.ior(KVMIO, 0x8e, kvm_lapic_state.SIZE);
    public static final long KVM_SET_LAPIC = Ioctl.iow(KVMIO, 0x8f, kvm_lapic_state.SIZE);
    public static final long KVM_SET_CPUID2 = Ioctl.iow(KVMIO, 0x90, kvm_cpuid2.SIZE);
    public static final long KVM_GET_TSC_KHZ = Ioctl.io(KVMIO, 0xa3);
    public static final long KVM_SIGNAL_MSI = Ioctl.iow(KVMIO, 0xa5, kvm_msi.SIZE);

    public static final int KVM_CAP_IRQCHIP = 0;
    public static final int KVM_CAP_USER_MEMORY = 3;
    public static final int KVM_CAP_SET_TSS_ADDR = 4;
    public static final int KVM_CAP_EXT_CPUID = 7;
    /** Its KVM_CHECK_EXTENSION value is the page of the vCPU mmap that holds the coalesced MMIO ring. */
    public static final int KVM_CAP_COALESCED_MMIO = 15;

    public static final int KVM_CAP_NR_VCPUS = 9;
    public static final int KVM_CAP_NR_MEMSLOTS = 10;
    public static final int KVM_CAP_SYNC_MMU = 16;
    public static final int KVM_CAP_IRQ_ROUTING = 25;
    public static final int KVM_CAP_IRQ_INJECT_STATUS = 26;
    public static final int KVM_CAP_IRQFD = 32;
    public static final int KVM_CAP_IOEVENTFD = 36;
    public static final int KVM_CAP_SET_IDENTITY_MAP_ADDR = 37;
    public static final int KVM_CAP_GET_TSC_KHZ = 61;
    public static final int KVM_CAP_MAX_VCPUS = 66;
    public static final int KVM_CAP_SIGNAL_MSI = 77;
    public static final int KVM_CAP_READONLY_MEM = 81;
    public static final int KVM_CAP_IRQFD_RESAMPLE = 82;
    public static final int KVM_CAP_IMMEDIATE_EXIT = 136;

    public static final int KVM_EXIT_UNKNOWN = 0;
    public static final int KVM_EXIT_EXCEPTION = 1;
    public static final int KVM_EXIT_IO = 2;
    public static final int KVM_EXIT_HYPERCALL = 3;
    public static final int KVM_EXIT_DEBUG = 4;
    public static final int KVM_EXIT_HLT = 5;
    public static final int KVM_EXIT_MMIO = 6;
    public static final int KVM_EXIT_IRQ_WINDOW_OPEN = 7;
    public static final int KVM_EXIT_SHUTDOWN = 8;
    public static final int KVM_EXIT_FAIL_ENTRY = 9;
    public static final int KVM_EXIT_INTR = 10;
    public static final int KVM_EXIT_SET_TPR = 11;
    public static final int KVM_EXIT_NMI = 16;
    public static final int KVM_EXIT_INTERNAL_ERROR = 17;
    public static final int KVM_EXIT_SYSTEM_EVENT = 24;
    public static final int KVM_EXIT_IOAPIC_EOI = 26;

    public static final int KVM_EXIT_IO_IN = 0;
    public static final int KVM_EXIT_IO_OUT = 1;

    public static final int KVM_INTERNAL_ERROR_EMULATION = 1;
    public static final int KVM_INTERNAL_ERROR_SIMUL_EX = 2;
    public static final int KVM_INTERNAL_ERROR_DELIVERY_EV = 3;
    public static final int KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

    public static final int KVM_SYSTEM_EVENT_SHUTDOWN = 1;
    public static final int KVM_SYSTEM_EVENT_RESET = 2;
    public static final int KVM_SYSTEM_EVENT_CRASH = 3;

    public static final int KVM_MEM_LOG_DIRTY_PAGES = 1;
    public static final int KVM_MEM_READONLY = 2;

    public static final int KVM_IRQFD_FLAG_DEASSIGN = 1;
    public static final int KVM_IRQFD_FLAG_RESAMPLE = 2;

    public static final int KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
    public static final int KVM_IOEVENTFD_FLAG_PIO = 2;
    public static final int KVM_IOEVENTFD_FLAG_DEASSIGN = 4;

    public static final int KVM_IRQ_ROUTING_IRQCHIP = 1;
    public static final int KVM_IRQCHIP_PIC_MASTER = 0;
    public static final int KVM_IRQCHIP_PIC_SLAVE = 1;
    public static final int KVM_IRQCHIP_IOAPIC = 2;

    public static final int KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

    private KvmAbi() {}

    /** struct kvm_interrupt: the vector KVM_INTERRUPT queues on a vCPU without an in-kernel LAPIC. */
    public static final class kvm_interrupt {
        public static final int SIZE = 4;
        public static final int irq = 0;

        private kvm_interrupt() {}
    }

    /** struct kvm_run: the vCPU's shared run structure (its mmap is larger; see KVM_GET_VCPU_MMAP_SIZE). */
    public static final class kvm_run {
        public static final int SIZE = 2352;
        public static final int request_interrupt_window = 0;
        public static final int immediate_exit = 1;
        public static final int exit_reason = 8;
        public static final int ready_for_interrupt_injection = 12;
        public static final int if_flag = 13;
        public static final int flags = 14;
        public static final int cr8 = 16;
        public static final int apic_base = 24;
        public static final int hw_hardware_exit_reason = 32;
        public static final int fail_entry_hardware_entry_failure_reason = 32;
        public static final int fail_entry_cpu = 40;
        public static final int ex_exception = 32;
        public static final int ex_error_code = 36;
        public static final int io_direction = 32;
        public static final int io_size = 33;
        public static final int io_port = 34;
        public static final int io_count = 36;
        public static final int io_data_offset = 40;
        public static final int mmio_phys_addr = 32;
        public static final int mmio_data = 40;
        public static final int mmio_len = 48;
        public static final int mmio_is_write = 52;
        public static final int internal_suberror = 32;
        public static final int internal_ndata = 36;
        public static final int internal_data = 40;
        public static final int system_event_type = 32;
        public static final int system_event_ndata = 36;
        public static final int system_event_data = 40;

        private kvm_run() {}
    }

    /** struct kvm_userspace_memory_region. */
    public static final class kvm_userspace_memory_region {
        public static final int SIZE = 32;
        public static final int slot = 0;
        public static final int flags = 4;
        public static final int guest_phys_addr = 8;
        public static final int memory_size = 16;
        public static final int userspace_addr = 24;

        private kvm_userspace_memory_region() {}
    }

    /** struct kvm_irq_level (irq and status share offset 0). */
    public static final class kvm_irq_level {
        public static final int SIZE = 8;
        public static final int irq = 0;
        public static final int status = 0;
        public static final int level = 4;

        private kvm_irq_level() {}
    }

    /** struct kvm_irqchip: chip_id then a 512-byte union (PIC or IOAPIC state). */
    public static final class kvm_irqchip {
        public static final int SIZE = 520;
        public static final int chip_id = 0;
        public static final int chip = 8;

        private kvm_irqchip() {}
    }

    /** struct kvm_ioapic_state, as found in kvm_irqchip.chip for KVM_IRQCHIP_IOAPIC. */
    public static final class kvm_ioapic_state {
        public static final int SIZE = 216;
        public static final int base_address = 0;
        public static final int ioregsel = 8;
        public static final int id = 12;
        public static final int irr = 16;
        public static final int redirtbl = 24;
        public static final int KVM_IOAPIC_NUM_PINS = 24;

        private kvm_ioapic_state() {}
    }

    /** struct kvm_lapic_state: the LAPIC's register page as the guest sees it at 0xFEE00000 (xAPIC layout). */
    public static final class kvm_lapic_state {
        public static final int SIZE = 1024;
        public static final int regs = 0;
        public static final int KVM_APIC_REG_SIZE = 0x400;

        private kvm_lapic_state() {}
    }

    /** struct kvm_msi: one message signalled interrupt (KVM_SIGNAL_MSI). */
    public static final class kvm_msi {
        public static final int SIZE = 32;
        public static final int address_lo = 0;
        public static final int address_hi = 4;
        public static final int data = 8;
        public static final int flags = 12;
        public static final int devid = 16;

        private kvm_msi() {}
    }

    /** struct kvm_irq_routing: header of KVM_SET_GSI_ROUTING, followed by entries. */
    public static final class kvm_irq_routing {
        public static final int SIZE = 8;
        public static final int nr = 0;
        public static final int flags = 4;
        public static final int entries = 8;

        private kvm_irq_routing() {}
    }

    /** struct kvm_irq_routing_entry (with u.irqchip, the only kind jvfio routes). */
    public static final class kvm_irq_routing_entry {
        public static final int SIZE = 48;
        public static final int gsi = 0;
        public static final int type = 4;
        public static final int flags = 8;
        public static final int u_irqchip_irqchip = 16;
        public static final int u_irqchip_pin = 20;

        private kvm_irq_routing_entry() {}
    }

    /** struct kvm_irqfd. */
    public static final class kvm_irqfd {
        public static final int SIZE = 32;
        public static final int fd = 0;
        public static final int gsi = 4;
        public static final int flags = 8;
        public static final int resamplefd = 12;

        private kvm_irqfd() {}
    }

    /** struct kvm_coalesced_mmio_zone: guest-physical writes into it are queued in the ring, not exits. */
    public static final class kvm_coalesced_mmio_zone {
        public static final int SIZE = 16;
        public static final int addr = 0;
        public static final int size = 8;
        public static final int pio = 12;

        private kvm_coalesced_mmio_zone() {}
    }

    /** struct kvm_coalesced_mmio: one queued write. */
    public static final class kvm_coalesced_mmio {
        public static final int SIZE = 24;
        public static final int phys_addr = 0;
        public static final int len = 8;
        public static final int pio = 12;
        public static final int data = 16;

        private kvm_coalesced_mmio() {}
    }

    /**
     * struct kvm_coalesced_mmio_ring: one page, the consumer's index {@code first}, the producer's {@code
     * last}, then the entries. KVM_COALESCED_MMIO_MAX entries fit in the page; one is always left free.
     */
    public static final class kvm_coalesced_mmio_ring {
        public static final int SIZE = 8;
        public static final int first = 0;
        public static final int last = 4;
        public static final int coalesced_mmio = 8;
        /** kvm.h's KVM_COALESCED_MMIO_MAX with x86-64's 4096-byte PAGE_SIZE. */
        public static final int KVM_COALESCED_MMIO_MAX = (4096 - SIZE) / kvm_coalesced_mmio.SIZE;

        private kvm_coalesced_mmio_ring() {}
    }

    /** struct kvm_ioeventfd. */
    public static final class kvm_ioeventfd {
        public static final int SIZE = 64;
        public static final int datamatch = 0;
        public static final int addr = 8;
        public static final int len = 16;
        public static final int fd = 20;
        public static final int flags = 24;

        private kvm_ioeventfd() {}
    }

    /** struct kvm_regs: 18 consecutive __u64 (rax rbx rcx rdx rsi rdi rsp rbp r8-r15 rip rflags). */
    public static final class kvm_regs {
        public static final int SIZE = 144;
        public static final int rax = 0;
        public static final int rdi = 40;
        public static final int rsp = 48;
        public static final int r8 = 64;
        public static final int r15 = 120;
        public static final int rip = 128;
        public static final int rflags = 136;

        private kvm_regs() {}
    }

    /** struct kvm_segment. */
    public static final class kvm_segment {
        public static final int SIZE = 24;
        public static final int base = 0;
        public static final int limit = 8;
        public static final int selector = 12;
        public static final int type = 14;
        public static final int present = 15;
        public static final int dpl = 16;
        public static final int db = 17;
        public static final int s = 18;
        public static final int l = 19;
        public static final int g = 20;
        public static final int avl = 21;
        public static final int unusable = 22;

        private kvm_segment() {}
    }

    /** struct kvm_dtable. */
    public static final class kvm_dtable {
        public static final int SIZE = 16;
        public static final int base = 0;
        public static final int limit = 8;

        private kvm_dtable() {}
    }

    /** struct kvm_sregs. */
    public static final class kvm_sregs {
        public static final int SIZE = 312;
        public static final int cs = 0;
        public static final int ds = 24;
        public static final int es = 48;
        public static final int fs = 72;
        public static final int gs = 96;
        public static final int ss = 120;
        public static final int tr = 144;
        public static final int ldt = 168;
        public static final int gdt = 192;
        public static final int idt = 208;
        public static final int cr0 = 224;
        public static final int cr2 = 232;
        public static final int cr3 = 240;
        public static final int cr4 = 248;
        public static final int cr8 = 256;
        public static final int efer = 264;
        public static final int apic_base = 272;
        public static final int interrupt_bitmap = 280;
        /** (KVM_NR_INTERRUPTS + 63) / 64 words. */
        public static final int INTERRUPT_BITMAP_WORDS = 4;

        private kvm_sregs() {}
    }

    /** struct kvm_msr_entry. */
    public static final class kvm_msr_entry {
        public static final int SIZE = 16;
        public static final int index = 0;
        public static final int data = 8;

        private kvm_msr_entry() {}
    }

    /** struct kvm_msrs: header followed by entries. */
    public static final class kvm_msrs {
        public static final int SIZE = 8;
        public static final int nmsrs = 0;
        public static final int entries = 8;

        private kvm_msrs() {}
    }

    /** struct kvm_cpuid_entry2. */
    public static final class kvm_cpuid_entry2 {
        public static final int SIZE = 40;
        public static final int function = 0;
        public static final int index = 4;
        public static final int flags = 8;
        public static final int eax = 12;
        public static final int ebx = 16;
        public static final int ecx = 20;
        public static final int edx = 24;

        private kvm_cpuid_entry2() {}
    }

    /** struct kvm_cpuid2: header followed by entries. */
    public static final class kvm_cpuid2 {
        public static final int SIZE = 8;
        public static final int nent = 0;
        public static final int entries = 8;

        private kvm_cpuid2() {}
    }
}
