/* guestvm: the VM the C baselines run jvfio's guest images in, set up exactly as jvfio's machine does:
 * 64 MiB of memfd-backed RAM at 0, the in-kernel irqchip with KVM's TSS and identity-map pages where
 * jvfio puts them, the supported CPUID, the long mode of machine/.../boot/LongMode.java (GDT at 0x500,
 * identity-mapped 4 GiB with 2 MiB pages at 0x1000-0x6FFF, RSP = 0x80000) and the boot info of
 * BootInfo.java at 0x9000 (RDI) listing one device. */
#ifndef JVFIO_BENCH_GUESTVM_H
#define JVFIO_BENCH_GUESTVM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#define GUESTVM_EXIT_PORT 0x501
#define GUESTVM_CONSOLE_PORT 0x3F8
#define GUESTVM_MAX_ARGS 8

struct guestvm {
    const char *program;   /* for error messages */
    int kvm, vm, vcpu, memfd;
    uint8_t *ram;
    struct kvm_run *run;
    size_t run_size;
    struct kvm_cpuid2 *cpuid;
};

/* The one device the boot info lists: region 0 at base (size bytes), and one IRQ on gsi unless gsi < 0. */
struct guestvm_device {
    const char *compatible;
    uint64_t base, size;
    int gsi;
};

/* Prints "program: what: strerror(errno)" and exits 1. */
void guestvm_die(const char *program, const char *what) __attribute__((noreturn));
/* Prints "program: what" and exits 1. */
void guestvm_fail(const char *program, const char *what) __attribute__((noreturn));
long long guestvm_now_ns(void);
/* Reads a whole file into a malloc'ed buffer; dies on failure. */
uint8_t *guestvm_read_file(const char *program, const char *path, size_t *size);

/* Machine.create: /dev/kvm, the VM, its RAM, irqchip and vCPU 0 with its kvm_run. Dies on failure. */
void guestvm_create(struct guestvm *g, const char *program);
/* Machine.start: loads the ELF image, writes the tables and the boot info (args[0..nargs)), enters long
 * mode at the image's entry. */
void guestvm_start(struct guestvm *g, const uint8_t *image, size_t size, const uint64_t *args, int nargs,
                   const struct guestvm_device *device);
/* Handles the exit-port and console exits of the current KVM_EXIT_IO: returns the exit code once the
 * guest wrote the exit port, -1 for a console byte, and -2 for any other port (answered with zeros). */
long long guestvm_port_exit(struct guestvm *g);
void guestvm_destroy(struct guestvm *g);

#endif
