/* testdev: a small driver for the jvfio,test-device (docs/devices/test-device.md): takes N interrupts on
 * each chosen line, raised by the device's timers or by the guest itself, and acknowledges each at the
 * device (ACK) before the LAPIC EOI.
 *   args[0]  N, the interrupts to take per line (at least 1)
 *   args[1]  line mask: the lines to use (0 = line 0 only)
 *   args[2]  mode: 0 each line's periodic timer raises it N times (period args[3] us, 200 if 0); the
 *            guest waits until each line has handled N, or its timer has stopped with nothing pending;
 *            1 ping-pong: per round, per line, the guest writes RAISE (bit i) and sleeps until the
 *            interrupt was handled; N rounds;
 *            2 together: per round, one RAISE write with every used line's bit, then sleep until each
 *            line's interrupt was handled; N rounds;
 *            3 echo: each used line's ECHO_REMAINING = N - 1 and one RAISE, so the device raises the line
 *            again on each ACK: N interrupts per line with two trapped accesses each (STATUS, ACK) and no
 *            RAISE write between them (the interrupt benchmarks)
 *            4 one-shot: per round, one-shot timers (period args[3] us) on every used line, then sleep
 *            until each line's interrupt was handled; N rounds. Unlike mode 0, a fire cannot come while
 *            the one before it is still being handled, however slow the host: each round's fires come a
 *            whole period after the last round's ACKs
 *   args[3]  timer period in us (modes 0 and 4)
 *   args[4]  flags: bit 0 first write and read back RAM (region 1) offsets 0..0xFF and the 0xF000
 *            doorbell; bit 1 record the order in which interrupts were handled (the first 64 that
 *            were not spurious); bit 2
 *            (mode 1, level lines only) raise the lines before their IOAPIC pins are routed and
 *            unmasked, and take that as round 0's raise: a line asserted before the guest was ready
 *            must be delivered once the guest unmasks its pin; bit 3 wait for interrupts running
 *            (interrupts enabled around a short run of nops) instead of halted: a software KVM takes
 *            an interrupt that arrives while its guest runs only at its next batch of instructions
 * Line i (boot info irq_gsi[i]) goes to vector 0x30 + i, level-triggered at the IOAPIC if TRIGGER_MODE
 * bit i is set, else edge. The handler reads STATUS (bit i clear: spurious), writes ACK = 1 << i, counts
 * and sends the EOI.
 * Reports: [flags bit 1: the number K of recorded entries, then K line numbers in handling order]; per
 * used line, lowest first: handled, RAISE_COUNT, ACK_COUNT; then the spurious count. Prints a one-line
 * summary. Every wait counts only the deliveries that found their STATUS bit set, so a spurious one
 * never stands in for a raise. Exits 0 if every used line handled exactly N and nothing was spurious,
 * else 1. */
#include "apic.h"
#include "bootinfo.h"
#include "idt.h"
#include "rt.h"

/* Region 0 registers. */
#define REG_ID 0x000
#define REG_IRQ_COUNT 0x008
#define REG_STATUS 0x010
#define REG_ACK 0x014
#define REG_RAISE 0x018
#define REG_TRIGGER_MODE 0x01C
#define REG_LINE(i) (0x100u + (i) * 0x20u)     /* per-line block */
#define LINE_TIMER_PERIOD_US 0x00
#define LINE_TIMER_CTRL 0x04
#define LINE_RAISE_COUNT 0x08
#define LINE_ACK_COUNT 0x0C
#define LINE_TIMER_REMAINING 0x10
#define LINE_ECHO_REMAINING 0x14
#define REGS_SIZE 0x200                         /* through the last per-line block */

#define DEVICE_ID 0x4A564654                    /* "JVFT" */
#define TIMER_ENABLE 1u
#define TIMER_PERIODIC 2u
#define DEFAULT_PERIOD_US 200

/* Region 1 (RAM). */
#define RAM_PATTERN_BYTES 0x100
#define RAM_DOORBELL 0xF000
#define RAM_DOORBELL_COUNT 0xF004
#define RAM_SIZE 0x10000

#define LINE_VECTOR(i) (0x30u + (i))
#define MAX_LINES 8
#define ORDER_MAX 64

#define MODE_TIMER 0
#define MODE_RAISE 1
#define MODE_TOGETHER 2
#define MODE_ECHO 3
#define MODE_ONE_SHOT 4
#define FLAG_RAM 1u
#define FLAG_ORDER 2u
#define FLAG_EARLY 4u
#define FLAG_BUSY_WAIT 8u

static uint64_t regs;
static int busy_wait;

/* The wait of every loop below: halted (sti; hlt), or running with interrupts enabled (flag bit 3). */
static void wait_for_device(void)
{
    if (busy_wait)
        __asm__ volatile("sti; nop; nop; nop; nop; nop; nop; nop; nop; cli" : : : "memory");
    else
        wait_for_interrupt();
}
static int record_order;
static volatile uint32_t handled[MAX_LINES];
/* Per line, the deliveries that found the line's STATUS bit clear: the waits below count only the
 * others, each of which consumed one raise. */
static volatile uint32_t spurious_on[MAX_LINES];
static volatile uint8_t order[ORDER_MAX];
static volatile uint32_t order_len;

static void line_interrupt(struct trap_frame *f)
{
    uint32_t line = (uint32_t)f->vector - LINE_VECTOR(0);
    uint32_t bit = 1u << line;

    int is_spurious = (mmio_read32(regs + REG_STATUS) & bit) == 0;
    if (is_spurious)
        spurious_on[line]++;
    /* ACK before the EOI: it de-asserts a level line at the device, and the EOI lets the IOAPIC deliver
     * the pin again if it is still high. */
    mmio_write32(regs + REG_ACK, bit);
    handled[line]++;
    if (record_order && !is_spurious && order_len < ORDER_MAX)
        order[order_len++] = (uint8_t)line;
    lapic_eoi();
}

static void check_ram(uint64_t ram)
{
    for (uint32_t off = 0; off < RAM_PATTERN_BYTES; off += 4)
        mmio_write32(ram + off, 0xC0DE0000u | off);
    for (uint32_t off = 0; off < RAM_PATTERN_BYTES; off += 4) {
        if (mmio_read32(ram + off) != (0xC0DE0000u | off))
            panic("testdev: RAM read back differs from the pattern written");
    }
    uint32_t rings = mmio_read32(ram + RAM_DOORBELL_COUNT);
    mmio_write32(ram + RAM_DOORBELL, 0xD00B0E11u);
    if (mmio_read32(ram + RAM_DOORBELL) != 0xD00B0E11u)
        panic("testdev: RAM doorbell (0xF000) read back differs from the value written");
    if (mmio_read32(ram + RAM_DOORBELL_COUNT) != rings + 1)
        panic("testdev: RAM doorbell count (0xF004) did not go up by one");
}

/* Deliveries of line i that found its STATUS bit set. Called with interrupts disabled. */
static uint32_t genuine(uint32_t i)
{
    return handled[i] - spurious_on[i];
}

/* Spurious deliveries over all lines. */
static uint32_t spurious(void)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < MAX_LINES; i++)
        total += spurious_on[i];
    return total;
}

/* Mode 0: every used line has handled n, or its timer has stopped with nothing latched in STATUS. Fires
 * that come while the line is still latched or asserted can merge into one interrupt; then the reports
 * show RAISE_COUNT above handled and the exit is 1, instead of a wait forever. TIMER_CTRL is read before
 * STATUS: the fire that stops the timer has raised the line by then. Called with interrupts disabled. */
static int timers_done(uint32_t mask, uint32_t n)
{
    for (uint32_t i = 0; i < MAX_LINES; i++) {
        if (!(mask & (1u << i)) || genuine(i) >= n)
            continue;
        if (mmio_read32(regs + REG_LINE(i) + LINE_TIMER_CTRL) & TIMER_ENABLE)
            return 0;
        if (mmio_read32(regs + REG_STATUS) & (1u << i))
            return 0;
    }
    return 1;
}

/* Every used line has had more than since[line] genuine deliveries. Called with interrupts disabled. */
static int all_advanced(uint32_t mask, const uint32_t *since)
{
    for (uint32_t i = 0; i < MAX_LINES; i++) {
        if ((mask & (1u << i)) && genuine(i) <= since[i])
            return 0;
    }
    return 1;
}

int main(const struct jvfio_boot_info *boot)
{
    uint32_t n = (uint32_t)boot->args[0];
    uint64_t mask_arg = boot->args[1] == 0 ? 1 : boot->args[1];
    uint64_t mode = boot->args[2];
    uint32_t period = boot->args[3] == 0 ? DEFAULT_PERIOD_US : (uint32_t)boot->args[3];
    uint64_t flags = boot->args[4];

    const struct jvfio_device *dev = boot_find_device(boot, "jvfio,test-device");
    if (dev == 0)
        panic("testdev: no device with compatible \"jvfio,test-device\" in the boot info");
    if (n == 0)
        panic("testdev: args[0] (N) must be at least 1");
    if (mode > MODE_ONE_SHOT)
        panic("testdev: args[2] (mode) must be 0 timer, 1 raise, 2 together, 3 echo or 4 one-shot");

    regs = device_region(dev, 0, REGS_SIZE);
    if (mmio_read32(regs + REG_ID) != DEVICE_ID)
        panic("testdev: region 0 ID register is not 0x4A564654 (\"JVFT\")");
    uint32_t lines = mmio_read32(regs + REG_IRQ_COUNT);
    if (lines > dev->irq_count)
        lines = dev->irq_count;
    if ((mask_arg >> lines) != 0)
        panic("testdev: args[1] (line mask) names a line the device or the boot info does not have");
    uint32_t mask = (uint32_t)mask_arg;
    uint32_t level = mmio_read32(regs + REG_TRIGGER_MODE);
    record_order = (flags & FLAG_ORDER) != 0;
    busy_wait = (flags & FLAG_BUSY_WAIT) != 0;

    if (flags & FLAG_RAM)
        check_ram(device_region(dev, 1, RAM_SIZE));
    int early = (flags & FLAG_EARLY) != 0;
    if (early) {
        if (mode != MODE_RAISE || (mask & ~level) != 0)
            panic("testdev: flag 4 (early raise) needs mode 1 and level lines only");
        mmio_write32(regs + REG_RAISE, mask);
    }

    lapic_enable();
    for (uint32_t i = 0; i < MAX_LINES; i++) {
        if (!(mask & (1u << i)))
            continue;
        for (uint32_t j = 0; j < i; j++) {
            if ((mask & (1u << j)) && dev->irq_gsi[j] == dev->irq_gsi[i])
                panic("testdev: two used lines share an IOAPIC pin");
        }
        uint32_t pin = device_irq(dev, i);
        idt_set_handler((uint8_t)LINE_VECTOR(i), line_interrupt);
        ioapic_route(pin, (uint8_t)LINE_VECTOR(i), (level >> i) & 1 ? TRIGGER_LEVEL : TRIGGER_EDGE,
                     (uint8_t)lapic_id());
        ioapic_unmask(pin);
    }

    /* Interrupts stay disabled except inside the wait (sti; hlt; cli, or sti; nops; cli), so each check of the
     * counts runs with interrupts off and an interrupt that arrives after it wakes the hlt (rt.h). */
    if (mode == MODE_TIMER) {
        for (uint32_t i = 0; i < MAX_LINES; i++) {
            if (!(mask & (1u << i)))
                continue;
            uint64_t block = regs + REG_LINE(i);
            mmio_write32(block + LINE_TIMER_PERIOD_US, period);
            mmio_write32(block + LINE_TIMER_REMAINING, n); /* exactly n fires */
            mmio_write32(block + LINE_TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
        }
        while (!timers_done(mask, n))
            wait_for_device();
    } else if (mode == MODE_ECHO) {
        uint32_t one_short[MAX_LINES];
        for (uint32_t i = 0; i < MAX_LINES; i++) {
            if (mask & (1u << i))
                mmio_write32(regs + REG_LINE(i) + LINE_ECHO_REMAINING, n - 1);
            one_short[i] = n - 1;
        }
        mmio_write32(regs + REG_RAISE, mask);
        while (!all_advanced(mask, one_short))
            wait_for_device();
    } else {
        for (uint32_t round = 0; round < n; round++) {
            if (mode == MODE_RAISE) {
                for (uint32_t i = 0; i < MAX_LINES; i++) {
                    if (!(mask & (1u << i)))
                        continue;
                    uint32_t before = round == 0 && early ? 0 : genuine(i);
                    if (!(round == 0 && early))
                        mmio_write32(regs + REG_RAISE, 1u << i);
                    while (genuine(i) == before)
                        wait_for_device();
                }
            } else {
                uint32_t since[MAX_LINES];
                for (uint32_t i = 0; i < MAX_LINES; i++)
                    since[i] = genuine(i);
                if (mode == MODE_ONE_SHOT) {
                    for (uint32_t i = 0; i < MAX_LINES; i++) {
                        if (!(mask & (1u << i)))
                            continue;
                        mmio_write32(regs + REG_LINE(i) + LINE_TIMER_PERIOD_US, period);
                        mmio_write32(regs + REG_LINE(i) + LINE_TIMER_CTRL, TIMER_ENABLE);
                    }
                } else {
                    mmio_write32(regs + REG_RAISE, mask);
                }
                while (!all_advanced(mask, since))
                    wait_for_device();
            }
        }
    }

    for (uint32_t i = 0; i < MAX_LINES; i++) {
        if (mask & (1u << i))
            ioapic_mask(dev->irq_gsi[i]);
    }

    if (record_order) {
        report(order_len);
        for (uint32_t k = 0; k < order_len; k++)
            report(order[k]);
    }
    uint32_t spurious_total = spurious();
    int ok = spurious_total == 0;
    print("testdev:");
    for (uint32_t i = 0; i < MAX_LINES; i++) {
        if (!(mask & (1u << i)))
            continue;
        uint32_t raised = mmio_read32(regs + REG_LINE(i) + LINE_RAISE_COUNT);
        uint32_t acked = mmio_read32(regs + REG_LINE(i) + LINE_ACK_COUNT);
        report(handled[i]);
        report(raised);
        report(acked);
        print(" line ");
        print_dec(i);
        print(" handled ");
        print_dec(handled[i]);
        print(" raised ");
        print_dec(raised);
        print(" acked ");
        print_dec(acked);
        print(",");
        ok = ok && handled[i] == n;
    }
    report(spurious_total);
    print(" spurious ");
    print_dec(spurious_total);
    print(ok ? " ok\n" : " FAILED\n");
    return ok ? 0 : 1;
}
