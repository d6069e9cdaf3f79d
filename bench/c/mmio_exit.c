/* mmio_exit: the C baseline of the mmio-exit benchmark. A minimal KVM_RUN loop that runs the same guest
 * image as jvfio's machine (guests/mmio-loop.elf) the same way: 64 MiB of memfd-backed RAM at 0, the
 * in-kernel irqchip with KVM's TSS and identity-map pages where jvfio puts them, the supported CPUID,
 * the long mode of machine/.../boot/LongMode.java (GDT at 0x500, identity-mapped 4 GiB with 2 MiB pages
 * at 0x1000-0x6FFF, RSP = 0x80000) and the boot info of BootInfo.java at 0x9000 (RDI), listing one
 * device whose region 0 is 4 KiB at 0xD0000000. MMIO writes there are counted by a switch; the guest
 * stops with an out to port 0x501.
 *   mmio_exit ELF ITERATIONS
 * Times from loading the image (what Machine.start does) to the exit-port exit, and prints one line:
 * "mmio_exit: EXITS exits, TOTAL ns, NS ns per exit". Exits 1 on any failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
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
#define STACK_TOP 0x80000ULL
#define IMAGE_LOWEST 0x100000ULL
#define CODE_SELECTOR 0x08
#define DATA_SELECTOR 0x10
#define DEVICE_BASE 0xD0000000ULL
#define DEVICE_SIZE 0x1000ULL
#define EXIT_PORT 0x501
#define CONSOLE_PORT 0x3F8
#define BOOT_MAGIC 0x4f4946564aULL
#define COMPATIBLE "jvfio,bench-mmio"

static void die(const char *what)
{
    fprintf(stderr, "mmio_exit: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(const char *what)
{
    fprintf(stderr, "mmio_exit: %s\n", what);
    exit(1);
}

static long long now_ns(void)
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

/* Copies each PT_LOAD segment's p_filesz bytes to its p_paddr (ElfImage.loadInto); returns the entry. */
static uint64_t load_elf(const uint8_t *image, size_t size, uint8_t *ram)
{
    if (size < sizeof(Elf64_Ehdr))
        fail("image shorter than an ELF header");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)image;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64
        || eh->e_machine != EM_X86_64)
        fail("not an x86-64 ELF64 image");
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(image + eh->e_phoff + (uint64_t)i * eh->e_phentsize);
        if (ph->p_type != PT_LOAD)
            continue;
        if (ph->p_paddr < IMAGE_LOWEST || ph->p_paddr + ph->p_memsz > RAM_SIZE
            || ph->p_offset + ph->p_filesz > size || ph->p_filesz > ph->p_memsz)
            fail("a PT_LOAD segment lies outside RAM or the file");
        memcpy(ram + ph->p_paddr, image + ph->p_offset, ph->p_filesz);
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

/* BootInfo.encode with one device (region 0 = the counted MMIO range) and args[0] = iterations. */
static void write_boot_info(uint8_t *ram, uint64_t iterations)
{
    uint64_t b = BOOT_INFO_ADDRESS;
    memset(ram + b, 0, 1704);
    put64(ram, b + 0, BOOT_MAGIC);
    put64(ram, b + 8, RAM_SIZE);
    put64(ram, b + 32, iterations);
    put32(ram, b + 96, 1);
    uint64_t dev = b + 104;
    memcpy(ram + dev, COMPATIBLE, sizeof COMPATIBLE);
    put32(ram, dev + 32, 1);
    put32(ram, dev + 36, 0);
    put64(ram, dev + 40, DEVICE_BASE);
    put64(ram, dev + 104, DEVICE_SIZE);
}

/* LongMode.sregs. */
static void set_long_mode(int vcpu, uint64_t entry)
{
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS");
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
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS");
    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    regs.rip = entry;
    regs.rsp = STACK_TOP;
    regs.rdi = BOOT_INFO_ADDRESS;
    regs.rflags = 0x2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS");
}

static uint8_t *read_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        die("fstat");
    uint8_t *buf = malloc((size_t)st.st_size);
    if (buf == NULL)
        die("malloc");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0)
            die("read");
        got += (size_t)n;
    }
    close(fd);
    *size = got;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mmio_exit ELF ITERATIONS\n");
        return 2;
    }
    uint64_t iterations = strtoull(argv[2], NULL, 0);
    size_t image_size;
    uint8_t *image = read_file(argv[1], &image_size);

    /* Machine.build */
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("/dev/kvm");
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        fail("unexpected KVM API version");
    int memfd = memfd_create("mmio-exit-ram", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, RAM_SIZE) < 0)
        die("guest RAM memfd");
    uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (ram == MAP_FAILED)
        die("mmap guest RAM");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        die("KVM_CREATE_VM");
    if (ioctl(vm, KVM_SET_TSS_ADDR, (unsigned long)TSS_ADDRESS) < 0)
        die("KVM_SET_TSS_ADDR");
    uint64_t identity = IDENTITY_MAP_ADDRESS;
    if (ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
        die("KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
        die("KVM_CREATE_IRQCHIP");
    struct kvm_userspace_memory_region slot = {.slot = 0, .flags = 0, .guest_phys_addr = 0,
                                               .memory_size = RAM_SIZE, .userspace_addr = (uint64_t)ram};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
        die("KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    int nent = 256;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + nent * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = nent;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        die("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
        die("KVM_SET_CPUID2");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0)
        die("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");

    /* Machine.start to awaitExit */
    long long start = now_ns();
    uint64_t entry = load_elf(image, image_size, ram);
    write_tables(ram);
    write_boot_info(ram, iterations);
    set_long_mode(vcpu, entry);
    uint64_t writes = 0;
    uint64_t other = 0;
    long long exit_code = -1;
    while (exit_code < 0) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            die("KVM_RUN");
        }
        switch (run->exit_reason) {
        case KVM_EXIT_MMIO:
            if (run->mmio.is_write && run->mmio.phys_addr >= DEVICE_BASE
                && run->mmio.phys_addr < DEVICE_BASE + DEVICE_SIZE) {
                writes++;
            } else {
                if (!run->mmio.is_write)
                    memset(run->mmio.data, 0xff, sizeof run->mmio.data);
                other++;
            }
            break;
        case KVM_EXIT_IO:
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == EXIT_PORT && run->io.size == 4) {
                uint32_t code;
                memcpy(&code, (uint8_t *)run + run->io.data_offset, 4);
                exit_code = code;
            } else if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == CONSOLE_PORT) {
                fputc(*((uint8_t *)run + run->io.data_offset), stderr);
            } else {
                if (run->io.direction == KVM_EXIT_IO_IN)
                    memset((uint8_t *)run + run->io.data_offset, 0, run->io.size);
                other++;
            }
            break;
        case KVM_EXIT_HLT:
            break;
        default:
            fprintf(stderr, "mmio_exit: exit reason %u\n", run->exit_reason);
            return 1;
        }
    }
    long long elapsed = now_ns() - start;
    if (exit_code != 0) {
        fprintf(stderr, "mmio_exit: the guest exited with %lld\n", exit_code);
        return 1;
    }
    if (writes != iterations) {
        fprintf(stderr, "mmio_exit: counted %llu MMIO writes for %llu iterations\n",
                (unsigned long long)writes, (unsigned long long)iterations);
        return 1;
    }
    printf("mmio_exit: %llu exits, %lld ns, %.1f ns per exit (%llu other exits)\n", (unsigned long long)writes,
           elapsed, (double)elapsed / (double)iterations, (unsigned long long)other);
    munmap(run, (size_t)run_size);
    close(vcpu);
    close(vm);
    munmap(ram, RAM_SIZE);
    close(memfd);
    close(kvm);
    free(cpuid);
    free(image);
    return 0;
}
