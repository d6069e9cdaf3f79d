/* irq_loop: the C baseline of the irq-irqfd and irq-eventfd benchmarks. It does the kernel work jvfio
 * does per interrupt, minus jvfio's layers: it runs the testdev guest image in echo mode (line 0, edge)
 * in the VM of lib/guestvm.h, and forwards each MMIO access of the device's register region as a
 * request/reply over an AF_UNIX socket to a second process (fork) that models the registers the guest
 * uses. That process raises line 0 by writing an eventfd; the interrupt reaches the guest by irqfd, or
 * (eventfd path) by a thread that reads the eventfd and sets the GSI with KVM_IRQ_LINE, lowered again
 * when the guest's ACK write exits. Per interrupt: the device fires, the guest's handler reads STATUS
 * and writes ACK (two exits, two round trips), and the ACK makes the device fire again.
 *   irq_loop ELF INTERRUPTS irqfd|eventfd
 * Times from loading the image to the exit-port exit and prints one line:
 * "irq_loop: N interrupts, TOTAL ns, NS ns per interrupt (E exits)". Exits 1 on any failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guestvm.h"

#define PROGRAM "irq_loop"
/* Where jvfio's platform bus puts the first region and the first IRQ. */
#define DEVICE_BASE 0xD0000000ULL
#define DEVICE_SIZE 0x1000ULL
#define GSI 16
#define MODE_ECHO 3
#define FLAG_BUSY_WAIT 8

/* The test device's registers (docs/devices/test-device.md) that testdev's echo mode touches. */
#define REG_ID 0x000
#define REG_IRQ_COUNT 0x008
#define REG_STATUS 0x010
#define REG_ACK 0x014
#define REG_RAISE 0x018
#define REG_TRIGGER_MODE 0x01C
#define REG_LINE0_RAISE_COUNT 0x108
#define REG_LINE0_ACK_COUNT 0x10C
#define REG_LINE0_ECHO_REMAINING 0x114
#define DEVICE_ID 0x4A564654u

struct request {
    uint32_t is_write;
    uint32_t offset;
    uint64_t value;
};

static void read_fully(int fd, void *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, (char *)buf + got, size - got);
        if (n == 0)
            exit(0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            guestvm_die(PROGRAM, "read");
        }
        got += (size_t)n;
    }
}

static void write_fully(int fd, const void *buf, size_t size)
{
    size_t put = 0;
    while (put < size) {
        ssize_t n = write(fd, (const char *)buf + put, size - put);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            guestvm_die(PROGRAM, "write");
        }
        put += (size_t)n;
    }
}

/* The device process: one line, edge, with the echo register. */
static void serve_device(int sock, int trigger)
{
    uint32_t status = 0, raises = 0, acks = 0, echo = 0;
    for (;;) {
        struct request req;
        read_fully(sock, &req, sizeof req);
        uint64_t reply = 0;
        int raise = 0;
        if (req.is_write) {
            switch (req.offset) {
            case REG_RAISE:
                raise = req.value & 1;
                break;
            case REG_ACK:
                if (req.value & 1) {
                    acks++;
                    status = 0;
                    if (echo != 0) {
                        echo--;
                        raise = 1;
                    }
                }
                break;
            case REG_LINE0_ECHO_REMAINING:
                echo = (uint32_t)req.value;
                break;
            default:
                break;
            }
        } else {
            switch (req.offset) {
            case REG_ID: reply = DEVICE_ID; break;
            case REG_IRQ_COUNT: reply = 1; break;
            case REG_STATUS: reply = status; break;
            case REG_TRIGGER_MODE: reply = 0; break;
            case REG_LINE0_RAISE_COUNT: reply = raises; break;
            case REG_LINE0_ACK_COUNT: reply = acks; break;
            case REG_LINE0_ECHO_REMAINING: reply = echo; break;
            default: break;
            }
        }
        if (raise) {
            status = 1;
            raises++;
            uint64_t one = 1;
            write_fully(trigger, &one, sizeof one);
        }
        write_fully(sock, &reply, sizeof reply);
    }
}

struct injector {
    int vm, trigger;
};

/* The eventfd path's injection: what jvfio's event-loop thread does for a user-side IRQ. */
static void *inject(void *arg)
{
    const struct injector *in = arg;
    for (;;) {
        uint64_t count;
        if (read(in->trigger, &count, sizeof count) != sizeof count) {
            if (errno == EINTR)
                continue;
            guestvm_die(PROGRAM, "read trigger eventfd");
        }
        struct kvm_irq_level line = {.irq = GSI, .level = 1};
        if (ioctl(in->vm, KVM_IRQ_LINE, &line) < 0)
            guestvm_die(PROGRAM, "KVM_IRQ_LINE");
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || (strcmp(argv[3], "irqfd") != 0 && strcmp(argv[3], "eventfd") != 0)
        || (argc == 5 && strcmp(argv[4], "busy") != 0)) {
        fprintf(stderr, "usage: irq_loop ELF INTERRUPTS irqfd|eventfd [busy]\n");
        return 2;
    }
    /* busy: the guest waits for its interrupts running, not halted (testdev's flag bit 3). */
    uint64_t flags = argc == 5 ? FLAG_BUSY_WAIT : 0;
    uint64_t interrupts = strtoull(argv[2], NULL, 0);
    int use_irqfd = strcmp(argv[3], "irqfd") == 0;
    size_t image_size;
    uint8_t *image = guestvm_read_file(PROGRAM, argv[1], &image_size);
    struct guestvm g;
    guestvm_create(&g, PROGRAM);

    int trigger = eventfd(0, EFD_CLOEXEC);
    if (trigger < 0)
        guestvm_die(PROGRAM, "eventfd");
    int socks[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, socks) < 0)
        guestvm_die(PROGRAM, "socketpair");
    pid_t device = fork();
    if (device < 0)
        guestvm_die(PROGRAM, "fork");
    if (device == 0) {
        close(socks[0]);
        serve_device(socks[1], trigger);
    }
    close(socks[1]);
    int sock = socks[0];

    pthread_t injector_thread;
    struct injector injector = {.vm = g.vm, .trigger = trigger};
    if (use_irqfd) {
        struct kvm_irqfd irqfd = {.fd = (uint32_t)trigger, .gsi = GSI};
        if (ioctl(g.vm, KVM_IRQFD, &irqfd) < 0)
            guestvm_die(PROGRAM, "KVM_IRQFD");
    } else if (pthread_create(&injector_thread, NULL, inject, &injector) != 0) {
        guestvm_fail(PROGRAM, "pthread_create failed");
    }

    const struct guestvm_device dev = {.compatible = "jvfio,test-device", .base = DEVICE_BASE,
                                       .size = DEVICE_SIZE, .gsi = GSI};
    const uint64_t args[] = {interrupts, 1, MODE_ECHO, 0, flags};
    long long start = guestvm_now_ns();
    guestvm_start(&g, image, image_size, args, 5, &dev);
    struct kvm_run *run = g.run;
    uint64_t exits = 0;
    long long exit_code = -1;
    while (exit_code < 0) {
        if (ioctl(g.vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            guestvm_die(PROGRAM, "KVM_RUN");
        }
        switch (run->exit_reason) {
        case KVM_EXIT_MMIO: {
            uint64_t address = run->mmio.phys_addr;
            if (address < DEVICE_BASE || address + run->mmio.len > DEVICE_BASE + DEVICE_SIZE) {
                if (!run->mmio.is_write)
                    memset(run->mmio.data, 0xff, sizeof run->mmio.data);
                break;
            }
            exits++;
            struct request req = {.is_write = run->mmio.is_write, .offset = (uint32_t)(address - DEVICE_BASE)};
            if (req.is_write) {
                memcpy(&req.value, run->mmio.data, run->mmio.len);
                if (!use_irqfd && req.offset == REG_ACK) {
                    struct kvm_irq_level line = {.irq = GSI, .level = 0};
                    if (ioctl(g.vm, KVM_IRQ_LINE, &line) < 0)
                        guestvm_die(PROGRAM, "KVM_IRQ_LINE");
                }
            }
            write_fully(sock, &req, sizeof req);
            uint64_t reply;
            read_fully(sock, &reply, sizeof reply);
            if (!req.is_write)
                memcpy(run->mmio.data, &reply, run->mmio.len);
            break;
        }
        case KVM_EXIT_IO: {
            long long port = guestvm_port_exit(&g);
            if (port >= 0)
                exit_code = port;
            break;
        }
        case KVM_EXIT_HLT:
            break;
        default:
            fprintf(stderr, PROGRAM ": exit reason %u\n", run->exit_reason);
            return 1;
        }
    }
    long long elapsed = guestvm_now_ns() - start;
    if (exit_code != 0) {
        fprintf(stderr, PROGRAM ": the guest exited with %lld\n", exit_code);
        return 1;
    }
    printf(PROGRAM ": %llu interrupts, %lld ns, %.1f ns per interrupt (%llu exits)\n",
           (unsigned long long)interrupts, elapsed, (double)elapsed / (double)interrupts,
           (unsigned long long)exits);
    close(sock);
    kill(device, SIGKILL);
    waitpid(device, NULL, 0);
    guestvm_destroy(&g);
    free(image);
    return 0;
}
