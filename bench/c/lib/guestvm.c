#define _GNU_SOURCE
#include "guestvm.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RAM_SIZE (64ULL << 20)
#define TSS_ADDRESS 0xFFFBD000ULL
#define IDENTITY_MAP_ADDRESS 0xFFFBC000ULL
#define GDT_ADDRESS 0x500ULL
#define PML4_ADDRESS 0x1000ULL
#define PDPT_ADDRESS 0x2000ULL
#define PD_ADDRESS 0x3000ULL
#define PD_COUNT 4
#define BOOT_INFO_ADDRESS 0x9000ULL
#define BOOT_INFO_SIZE 1704
#define STACK_TOP 0x80000ULL
#define IMAGE_LOWEST 0x100000ULL
#define CODE_SELECTOR 0x08
#define DATA_SELECTOR 0x10
#define BOOT_MAGIC 0x4f4946564aULL
#define REPORT_PORT 0x502

void guestvm_die(const char *program, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", program, what, strerror(errno));
    exit(1);
}

void guestvm_fail(const char *program, const char *what)
{
    fprintf(stderr, "%s: %s\n", program, what);
    exit(1);
}

long long guestvm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void put64(uint8_t *ram, uint64_t at, uint64_t v)
{
    memcpy(ram + at, &v, 8);
}

static void put32(uint8_t *ram, uint64_t at, uint32_t v)
{
    memcpy(ram + at, &v, 4);
}

uint8_t *guestvm_read_file(const char *program, const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        guestvm_die(program, path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        guestvm_die(program, "fstat");
    uint8_t *buf = malloc((size_t)st.st_size);
    if (buf == NULL)
        guestvm_die(program, "malloc");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0)
            guestvm_die(program, "read");
        got += (size_t)n;
    }
    close(fd);
    *size = got;
    return buf;
}

void guestvm_create(struct guestvm *g, const char *program)
{
    memset(g, 0, sizeof *g);
    g->program = program;
    g->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (g->kvm < 0)
        guestvm_die(program, "/dev/kvm");
    if (ioctl(g->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        guestvm_fail(program, "unexpected KVM API version");
    g->memfd = memfd_create("guestvm-ram", MFD_CLOEXEC);
    if (g->memfd < 0 || ftruncate(g->memfd, RAM_SIZE) < 0)
        guestvm_die(program, "guest RAM memfd");
    g->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
    if (g->ram == MAP_FAILED)
        guestvm_die(program, "mmap guest RAM");
    g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
    if (g->vm < 0)
        guestvm_die(program, "KVM_CREATE_VM");
    if (ioctl(g->vm, KVM_SET_TSS_ADDR, (unsigned long)TSS_ADDRESS) < 0)
        guestvm_die(program, "KVM_SET_TSS_ADDR");
    uint64_t identity = IDENTITY_MAP_ADDRESS;
    if (ioctl(g->vm, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
        guestvm_die(program, "KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(g->vm, KVM_CREATE_IRQCHIP, 0) < 0)
        guestvm_die(program, "KVM_CREATE_IRQCHIP");
    struct kvm_userspace_memory_region slot = {.slot = 0, .flags = 0, .guest_phys_addr = 0,
                                               .memory_size = RAM_SIZE, .userspace_addr = (uint64_t)g->ram};
    if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
        guestvm_die(program, "KVM_SET_USER_MEMORY_REGION");
    g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
    if (g->vcpu < 0)
        guestvm_die(program, "KVM_CREATE_VCPU");
    int nent = 256;
    g->cpuid = calloc(1, sizeof *g->cpuid + nent * sizeof(struct kvm_cpuid_entry2));
    if (g->cpuid == NULL)
        guestvm_die(program, "calloc");
    g->cpuid->nent = nent;
    if (ioctl(g->kvm, KVM_GET_SUPPORTED_CPUID, g->cpuid) < 0)
        guestvm_die(program, "KVM_GET_SUPPORTED_CPUID");
    if (ioctl(g->vcpu, KVM_SET_CPUID2, g->cpuid) < 0)
        guestvm_die(program, "KVM_SET_CPUID2");
    int run_size = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0)
        guestvm_die(program, "KVM_GET_VCPU_MMAP_SIZE");
    g->run_size = (size_t)run_size;
    g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
    if (g->run == MAP_FAILED)
        guestvm_die(program, "mmap kvm_run");
}

/* ElfImage.loadInto: copies each PT_LOAD segment's p_filesz bytes to its p_paddr; returns the entry. */
static uint64_t load_elf(struct guestvm *g, const uint8_t *image, size_t size)
{
    if (size < sizeof(Elf64_Ehdr))
        guestvm_fail(g->program, "image shorter than an ELF header");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)image;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64
        || eh->e_machine != EM_X86_64)
        guestvm_fail(g->program, "not an x86-64 ELF64 image");
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(image + eh->e_phoff + (uint64_t)i * eh->e_phentsize);
        if (ph->p_type != PT_LOAD)
            continue;
        if (ph->p_paddr < IMAGE_LOWEST || ph->p_paddr + ph->p_memsz > RAM_SIZE
            || ph->p_offset + ph->p_filesz > size || ph->p_filesz > ph->p_memsz)
            guestvm_fail(g->program, "a PT_LOAD segment lies outside RAM or the file");
        memcpy(g->ram + ph->p_paddr, image + ph->p_offset, ph->p_filesz);
    }
    return eh->e_entry;
}

/* LongMode.writeTables. */
static void write_tables(uint8_t *ram)
{
    static const uint64_t gdt[3] = {0, 0x00AF9B000000FFFFULL, 0x00CF93000000FFFFULL};
    for (int i = 0; i < 3; i++)
        put64(ram, GDT_ADDRESS + 8 * i, gdt[i]);
    memset(ram + PML4_ADDRESS, 0, PD_ADDRESS + PD_COUNT * 0x1000 - PML4_ADDRESS);
    put64(ram, PML4_ADDRESS, PDPT_ADDRESS | 3);
    for (uint64_t i = 0; i < PD_COUNT; i++) {
        uint64_t pd = PD_ADDRESS + 0x1000 * i;
        put64(ram, PDPT_ADDRESS + 8 * i, pd | 3);
        for (uint64_t j = 0; j < 512; j++)
            put64(ram, pd + 8 * j, ((i * 512 + j) << 21) | 3 | 0x80);
    }
}

/* BootInfo.encode with one device. */
static void write_boot_info(uint8_t *ram, const uint64_t *args, int nargs, const struct guestvm_device *device)
{
    uint64_t b = BOOT_INFO_ADDRESS;
    memset(ram + b, 0, BOOT_INFO_SIZE);
    put64(ram, b + 0, BOOT_MAGIC);
    put64(ram, b + 8, RAM_SIZE);
    for (int i = 0; i < nargs && i < GUESTVM_MAX_ARGS; i++)
        put64(ram, b + 32 + 8 * (uint64_t)i, args[i]);
    put32(ram, b + 96, 1);
    uint64_t dev = b + 104;
    strncpy((char *)ram + dev, device->compatible, 31);
    put32(ram, dev + 32, 1);
    put32(ram, dev + 36, device->gsi >= 0 ? 1 : 0);
    put64(ram, dev + 40, device->base);
    put64(ram, dev + 104, device->size);
    if (device->gsi >= 0)
        put32(ram, dev + 168, (uint32_t)device->gsi);
}

/* LongMode.sregs and LongMode.regs. */
static void set_long_mode(struct guestvm *g, uint64_t entry)
{
    struct kvm_sregs sregs;
    if (ioctl(g->vcpu, KVM_GET_SREGS, &sregs) < 0)
        guestvm_die(g->program, "KVM_GET_SREGS");
    struct kvm_segment code = {.base = 0, .limit = 0xFFFFFFFF, .selector = CODE_SELECTOR, .type = 0xB,
                               .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1};
    struct kvm_segment data = {.base = 0, .limit = 0xFFFFFFFF, .selector = DATA_SELECTOR, .type = 0x3,
                               .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.gdt.base = GDT_ADDRESS;
    sregs.gdt.limit = 3 * 8 - 1;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr0 = 1 | (1 << 1) | (1 << 4) | (1 << 5) | (1 << 16) | (1U << 31);
    sregs.cr2 = 0;
    sregs.cr3 = PML4_ADDRESS;
    sregs.cr4 = 1 << 5;
    sregs.cr8 = 0;
    sregs.efer = (1 << 8) | (1 << 10);
    memset(sregs.interrupt_bitmap, 0, sizeof sregs.interrupt_bitmap);
    if (ioctl(g->vcpu, KVM_SET_SREGS, &sregs) < 0)
        guestvm_die(g->program, "KVM_SET_SREGS");
    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    regs.rip = entry;
    regs.rsp = STACK_TOP;
    regs.rdi = BOOT_INFO_ADDRESS;
    regs.rflags = 0x2;
    if (ioctl(g->vcpu, KVM_SET_REGS, &regs) < 0)
        guestvm_die(g->program, "KVM_SET_REGS");
}

void guestvm_start(struct guestvm *g, const uint8_t *image, size_t size, const uint64_t *args, int nargs,
                   const struct guestvm_device *device)
{
    uint64_t entry = load_elf(g, image, size);
    write_tables(g->ram);
    write_boot_info(g->ram, args, nargs, device);
    set_long_mode(g, entry);
}

long long guestvm_port_exit(struct guestvm *g)
{
    struct kvm_run *run = g->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == GUESTVM_EXIT_PORT && run->io.size == 4) {
        uint32_t code;
        memcpy(&code, data, 4);
        return code;
    }
    if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == GUESTVM_CONSOLE_PORT) {
        fputc(*data, stderr);
        return -1;
    }
    if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == REPORT_PORT)
        return -1;
    if (run->io.direction == KVM_EXIT_IO_IN)
        memset(data, 0, run->io.size);
    return -2;
}

void guestvm_destroy(struct guestvm *g)
{
    munmap(g->run, g->run_size);
    close(g->vcpu);
    close(g->vm);
    munmap(g->ram, RAM_SIZE);
    close(g->memfd);
    close(g->kvm);
    free(g->cpuid);
}
