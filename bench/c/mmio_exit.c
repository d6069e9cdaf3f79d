/* mmio_exit: the C baseline of the mmio-exit benchmark. A minimal KVM_RUN loop that runs the same guest
 * image as jvfio's machine (guests/mmio-loop.elf) in the same VM (lib/guestvm.h), listing one device
 * whose region 0 is 4 KiB at 0xD0000000. MMIO writes there are counted by a switch; the guest stops with
 * an out to port 0x501.
 *   mmio_exit ELF ITERATIONS
 * Times from loading the image (what Machine.start does) to the exit-port exit, and prints one line:
 * "mmio_exit: EXITS exits, TOTAL ns, NS ns per exit". Exits 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>

#include "guestvm.h"

#define DEVICE_BASE 0xD0000000ULL
#define DEVICE_SIZE 0x1000ULL

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mmio_exit ELF ITERATIONS\n");
        return 2;
    }
    uint64_t iterations = strtoull(argv[2], NULL, 0);
    size_t image_size;
    uint8_t *image = guestvm_read_file("mmio_exit", argv[1], &image_size);
    struct guestvm g;
    guestvm_create(&g, "mmio_exit");
    const struct guestvm_device device = {.compatible = "jvfio,bench-mmio", .base = DEVICE_BASE,
                                          .size = DEVICE_SIZE, .gsi = -1};

    long long start = guestvm_now_ns();
    guestvm_start(&g, image, image_size, &iterations, 1, &device);
    struct kvm_run *run = g.run;
    uint64_t writes = 0;
    uint64_t other = 0;
    long long exit_code = -1;
    while (exit_code < 0) {
        if (ioctl(g.vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            guestvm_die("mmio_exit", "KVM_RUN");
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
        case KVM_EXIT_IO: {
            long long port = guestvm_port_exit(&g);
            if (port >= 0)
                exit_code = port;
            else if (port == -2)
                other++;
            break;
        }
        case KVM_EXIT_HLT:
            break;
        default:
            fprintf(stderr, "mmio_exit: exit reason %u\n", run->exit_reason);
            return 1;
        }
    }
    long long elapsed = guestvm_now_ns() - start;
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
    guestvm_destroy(&g);
    free(image);
    return 0;
}
