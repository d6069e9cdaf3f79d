/*
 * nestedcheck: proves that the nested guest really has what the jvfio kvm and vfio test tiers need.
 *
 *   nestedcheck kvm          open /dev/kvm, print the capabilities jvfio uses, run a real-mode
 *                            vCPU (mov al,0x42; out 0x10,al; hlt) and check its exits; then
 *                            register an irqfd (with resample) and an ioeventfd on an in-kernel irqchip
 *   nestedcheck vfio BDF     open BDF's group through a type1 container, read its regions and IRQs,
 *                            talk to QEMU's edu device (ID register, INTx and MSI via eventfd, DMA
 *                            through the emulated IOMMU)
 *
 * Prints one "name: value" line per fact and exits 0 only when every check passed.
 * Built statically on the host (selftest.sh) so it does not depend on anything in the guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...) do { \
    if (!(cond)) { printf("FAIL: " __VA_ARGS__); printf(" (errno %d: %s)\n", errno, strerror(errno)); failures++; } \
  } while (0)

static int kvm_check(void) {
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) { CHECK(0, "open /dev/kvm"); return 1; }
  printf("KVM_GET_API_VERSION: %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0));
  static const struct { const char *name; int cap; } caps[] = {
    {"KVM_CAP_IRQCHIP", KVM_CAP_IRQCHIP},           {"KVM_CAP_IRQ_ROUTING", KVM_CAP_IRQ_ROUTING},
    {"KVM_CAP_IRQFD", KVM_CAP_IRQFD},               {"KVM_CAP_IRQFD_RESAMPLE", KVM_CAP_IRQFD_RESAMPLE},
    {"KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD},       {"KVM_CAP_SIGNAL_MSI", KVM_CAP_SIGNAL_MSI},
    {"KVM_CAP_SPLIT_IRQCHIP", KVM_CAP_SPLIT_IRQCHIP}, {"KVM_CAP_NR_VCPUS", KVM_CAP_NR_VCPUS},
    {"KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS},       {"KVM_CAP_NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS},
    {"KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY},
  };
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
    printf("%s: %d\n", caps[i].name, ioctl(kvm, KVM_CHECK_EXTENSION, caps[i].cap));

  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) { CHECK(0, "KVM_CREATE_VM"); return 1; }
  /* One page of guest RAM at 0x1000 holding the program. */
  uint8_t *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  static const uint8_t code[] = {0xb0, 0x42, 0xe6, 0x10, 0xf4}; /* mov al,0x42; out 0x10,al; hlt */
  memcpy(mem, code, sizeof code);
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = 0x1000, .memory_size = 0x1000, .userspace_addr = (uintptr_t)mem};
  CHECK(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) == 0, "KVM_SET_USER_MEMORY_REGION");

  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) { CHECK(0, "KVM_CREATE_VCPU"); return 1; }
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  struct kvm_sregs sregs;
  CHECK(ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS");
  sregs.cs.base = 0; sregs.cs.selector = 0; /* real mode, flat at 0 */
  CHECK(ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS");
  struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
  CHECK(ioctl(vcpu, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");

  int saw_io = 0, saw_hlt = 0;
  for (int i = 0; i < 10 && !saw_hlt; i++) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) { CHECK(0, "KVM_RUN"); break; }
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
      uint8_t v = *((uint8_t *)run + run->io.data_offset);
      printf("exit: KVM_EXIT_IO port=0x%x dir=%s size=%d value=0x%x\n", run->io.port,
             run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.size, v);
      saw_io = run->io.port == 0x10 && v == 0x42;
      break;
    }
    case KVM_EXIT_HLT: printf("exit: KVM_EXIT_HLT\n"); saw_hlt = 1; break;
    default:
      printf("exit: reason %d (hardware_exit_reason 0x%llx)\n", run->exit_reason,
             (unsigned long long)run->hw.hardware_exit_reason);
      i = 10;
    }
  }
  CHECK(saw_io, "expected an OUT of 0x42 to port 0x10");
  CHECK(saw_hlt, "expected a HLT exit");

  /* irqfd (+ resample) and ioeventfd need an in-kernel irqchip, which must exist before any
   * vCPU: use a second VM. */
  vm = ioctl(kvm, KVM_CREATE_VM, 0);
  CHECK(vm >= 0, "KVM_CREATE_VM (second)");
  CHECK(ioctl(vm, KVM_CREATE_IRQCHIP, 0) == 0, "KVM_CREATE_IRQCHIP");
  int trig = eventfd(0, EFD_CLOEXEC), res = eventfd(0, EFD_CLOEXEC), io = eventfd(0, EFD_CLOEXEC);
  struct kvm_irqfd irqfd = {.fd = trig, .gsi = 5, .flags = KVM_IRQFD_FLAG_RESAMPLE, .resamplefd = res};
  CHECK(ioctl(vm, KVM_IRQFD, &irqfd) == 0, "KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE");
  struct kvm_ioeventfd ioev = {.addr = 0xd0000000, .len = 4, .fd = io};
  CHECK(ioctl(vm, KVM_IOEVENTFD, &ioev) == 0, "KVM_IOEVENTFD");
  printf("kvm irqfd+resample, ioeventfd: %s\n", failures ? "FAILED" : "ok");
  printf("kvm: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}

/* edu registers (QEMU docs/specs/edu.txt) */
enum { EDU_ID = 0x00, EDU_LIVE = 0x04, EDU_STATUS = 0x20, EDU_IRQ_STATUS = 0x24, EDU_IRQ_RAISE = 0x60,
       EDU_IRQ_ACK = 0x64, EDU_DMA_SRC = 0x80, EDU_DMA_DST = 0x88, EDU_DMA_CNT = 0x90, EDU_DMA_CMD = 0x98,
       EDU_BUF = 0x40000 };

static volatile uint8_t *bar0;
static uint32_t rd32(int off) { return *(volatile uint32_t *)(bar0 + off); }
static void wr32(int off, uint32_t v) { *(volatile uint32_t *)(bar0 + off) = v; }
static void wr64(int off, uint64_t v) { *(volatile uint64_t *)(bar0 + off) = v; }

static int wait_eventfd(int fd, const char *what) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n = poll(&p, 1, 2000);
  uint64_t count = 0;
  if (n == 1) (void)!read(fd, &count, sizeof count);
  printf("%s: %s\n", what, n == 1 ? "ok" : "no interrupt within 2 s");
  return n == 1;
}

static int set_irq(int dev, unsigned index, int fd) {
  struct { struct vfio_irq_set set; int32_t fd; } s = {
      .set = {.argsz = sizeof s, .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
              .index = index, .start = 0, .count = 1},
      .fd = fd};
  return ioctl(dev, VFIO_DEVICE_SET_IRQS, &s);
}

static int vfio_check(const char *bdf) {
  char path[256], link[256];
  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
  ssize_t n = readlink(path, link, sizeof link - 1);
  if (n < 0) { CHECK(0, "%s has no iommu_group", bdf); return 1; }
  link[n] = 0;
  const char *group_id = strrchr(link, '/') + 1;
  printf("vfio group: %s\n", group_id);

  int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
  if (container < 0) { CHECK(0, "open /dev/vfio/vfio"); return 1; }
  printf("VFIO_GET_API_VERSION: %d\n", ioctl(container, VFIO_GET_API_VERSION));
  printf("VFIO_TYPE1_IOMMU: %d\n", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
  printf("VFIO_TYPE1v2_IOMMU: %d\n", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
  snprintf(path, sizeof path, "/dev/vfio/%s", group_id);
  int group = open(path, O_RDWR | O_CLOEXEC);
  if (group < 0) { CHECK(0, "open %s", path); return 1; }
  struct vfio_group_status status = {.argsz = sizeof status};
  CHECK(ioctl(group, VFIO_GROUP_GET_STATUS, &status) == 0, "VFIO_GROUP_GET_STATUS");
  printf("group viable: %s\n", status.flags & VFIO_GROUP_FLAGS_VIABLE ? "yes" : "no");
  CHECK(ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) == 0, "VFIO_GROUP_SET_CONTAINER");
  if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) != 0) { CHECK(0, "VFIO_SET_IOMMU type1v2"); return 1; }
  int dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
  if (dev < 0) { CHECK(0, "VFIO_GROUP_GET_DEVICE_FD"); return 1; }

  struct vfio_device_info info = {.argsz = sizeof info};
  CHECK(ioctl(dev, VFIO_DEVICE_GET_INFO, &info) == 0, "VFIO_DEVICE_GET_INFO");
  printf("device flags: 0x%x (%s%s) regions: %u irqs: %u\n", info.flags,
         info.flags & VFIO_DEVICE_FLAGS_PCI ? "pci" : "", info.flags & VFIO_DEVICE_FLAGS_RESET ? ",reset" : "",
         info.num_regions, info.num_irqs);
  struct vfio_region_info bar = {.argsz = sizeof bar, .index = VFIO_PCI_BAR0_REGION_INDEX};
  CHECK(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &bar) == 0, "VFIO_DEVICE_GET_REGION_INFO bar0");
  printf("bar0: size 0x%llx offset 0x%llx flags 0x%x\n", (unsigned long long)bar.size,
         (unsigned long long)bar.offset, bar.flags);
  for (unsigned i = 0; i < info.num_irqs; i++) {
    struct vfio_irq_info irq = {.argsz = sizeof irq, .index = i};
    if (ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0 && irq.count)
      printf("irq index %u: count %u flags 0x%x\n", i, irq.count, irq.flags);
  }

  /* BAR0 through pread (the slow path) and mmap (the fast path). */
  uint32_t id = 0;
  CHECK(pread(dev, &id, 4, bar.offset + EDU_ID) == 4, "pread bar0");
  printf("edu id via pread: 0x%08x\n", id);
  bar0 = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, bar.offset);
  if (bar0 == MAP_FAILED) { CHECK(0, "mmap bar0"); return 1; }
  printf("edu id via mmap: 0x%08x\n", rd32(EDU_ID));
  CHECK((rd32(EDU_ID) & 0xff) == 0xed, "edu id register");
  wr32(EDU_LIVE, 0x12345678);
  CHECK(rd32(EDU_LIVE) == ~0x12345678u, "edu liveness register");

  /* Enable bus mastering in the command register so edu may DMA. */
  uint16_t cmd;
  struct vfio_region_info cfgr = {.argsz = sizeof cfgr, .index = VFIO_PCI_CONFIG_REGION_INDEX};
  CHECK(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &cfgr) == 0, "VFIO_DEVICE_GET_REGION_INFO config");
  off_t cfg = (off_t)cfgr.offset;
  (void)!pread(dev, &cmd, 2, cfg + 4);
  cmd |= 0x4;
  (void)!pwrite(dev, &cmd, 2, cfg + 4);

  /* INTx (index 0) and MSI (index 1): each raise must signal the eventfd. */
  int efd = eventfd(0, EFD_CLOEXEC);
  CHECK(set_irq(dev, VFIO_PCI_INTX_IRQ_INDEX, efd) == 0, "VFIO_DEVICE_SET_IRQS INTx");
  wr32(EDU_IRQ_RAISE, 1);
  CHECK(wait_eventfd(efd, "edu INTx -> eventfd"), "INTx");
  wr32(EDU_IRQ_ACK, rd32(EDU_IRQ_STATUS));
  struct vfio_irq_set off = {.argsz = sizeof off, .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                             .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 0};
  ioctl(dev, VFIO_DEVICE_SET_IRQS, &off);
  CHECK(set_irq(dev, VFIO_PCI_MSI_IRQ_INDEX, efd) == 0, "VFIO_DEVICE_SET_IRQS MSI");
  wr32(EDU_IRQ_RAISE, 2);
  CHECK(wait_eventfd(efd, "edu MSI -> eventfd"), "MSI");
  wr32(EDU_IRQ_ACK, rd32(EDU_IRQ_STATUS));

  /* DMA through the vIOMMU: host buffer -> edu's buffer -> back into the second half. edu only
   * drives 28 address bits, hence the low IOVA. */
  uint8_t *buf = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < 0x800; i++) buf[i] = (uint8_t)(i * 7 + 1);
  struct vfio_iommu_type1_dma_map map = {.argsz = sizeof map, .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
                                         .vaddr = (uintptr_t)buf, .iova = 0x100000, .size = 0x1000};
  CHECK(ioctl(container, VFIO_IOMMU_MAP_DMA, &map) == 0, "VFIO_IOMMU_MAP_DMA");
  struct { uint64_t src, dst; uint32_t cmd; } steps[] = {
      {0x100000, EDU_BUF, 1}, /* RAM -> edu */
      {EDU_BUF, 0x100800, 3}, /* edu -> RAM */
  };
  for (int s = 0; s < 2; s++) {
    wr64(EDU_DMA_SRC, steps[s].src); wr64(EDU_DMA_DST, steps[s].dst);
    wr64(EDU_DMA_CNT, 0x800); wr64(EDU_DMA_CMD, steps[s].cmd);
    for (int t = 0; t < 2000 && (rd32(EDU_DMA_CMD) & 1); t++) usleep(1000);
  }
  int dma_ok = memcmp(buf, buf + 0x800, 0x800) == 0;
  printf("edu DMA through IOMMU: %s\n", dma_ok ? "ok" : "data mismatch");
  CHECK(dma_ok, "DMA round trip");
  printf("vfio: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 2 && !strcmp(argv[1], "kvm")) return kvm_check();
  if (argc == 3 && !strcmp(argv[1], "vfio")) return vfio_check(argv[2]);
  fprintf(stderr, "usage: nestedcheck kvm | nestedcheck vfio BDF\n");
  return 2;
}
