/* serial: drives the console's 16550A as Linux's 8250 driver would and echoes what it receives.
 *   args[0]  N, the number of lines to read
 * Checks the UART (scratch register, FIFOs seen in IIR bits 6-7), programs 115200 8N1 with FIFOs and the
 * 8-byte trigger, sets OUT2 (the PC's interrupt gate), routes COM1's IRQ 4 as an ISA edge interrupt to
 * vector 0x24 and enables the receive interrupts. Each received line is printed back as "echo: LINE".
 * Then it reports the interrupts taken and the bytes received, and exits 0. A line longer than 255
 * bytes, an overrun or another line status error panics; any other vector reports it and exits 3. */
#include "apic.h"
#include "bootinfo.h"
#include "idt.h"
#include "rt.h"

#define COM1 0x3F8
#define COM1_IRQ 4
#define UART_VECTOR 0x24
#define EXIT_UNEXPECTED_VECTOR 3

#define RBR 0
#define THR 0
#define DLL 0
#define DLM 1
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define SCR 7

#define IER_RECEIVED_DATA 0x01
#define IER_LINE_STATUS 0x04
#define IIR_NO_INTERRUPT 0x01
#define IIR_FIFOS 0xC0
#define FCR_ENABLE_CLEAR_TRIGGER_8 0x87
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define MCR_DTR_RTS_OUT2 0x0B
#define LSR_DATA_READY 0x01
#define LSR_ERRORS 0x1E
#define LSR_THR_EMPTY 0x20

#define LINE_MAX 256

static char line[LINE_MAX];
static volatile uint32_t line_length;
static volatile uint32_t lines_done;
static volatile uint32_t interrupts;
static volatile uint32_t bytes_received;
static char pending[LINE_MAX];
static volatile uint32_t pending_length;
static volatile int pending_ready;

static void uart_putc(char c)
{
    while (!(inb(COM1 + LSR) & LSR_THR_EMPTY))
        ;
    outb(COM1 + THR, (uint8_t)c);
}

static void uart_print(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

/* One received character; a completed line stops reception (IER 0, as Linux's throttle does) until main
 * has printed it, so the FIFO and then the host hold the rest. */
static void receive(char c)
{
    bytes_received++;
    if (c != '\n') {
        if (line_length == LINE_MAX - 1)
            panic("serial: line too long");
        line[line_length++] = c;
        return;
    }
    memcpy(pending, line, line_length);
    pending_length = line_length;
    line_length = 0;
    pending_ready = 1;
    outb(COM1 + IER, 0);
}

/* Reads until IIR shows nothing pending (or a line is complete), so the UART's level drops and the next
 * interrupt is a new edge. */
static void uart_interrupt(struct trap_frame *f)
{
    (void)f;
    interrupts++;
    while (!pending_ready && !(inb(COM1 + IIR) & IIR_NO_INTERRUPT)) {
        uint8_t lsr = 0;
        while (!pending_ready && ((lsr = inb(COM1 + LSR)) & LSR_DATA_READY)) {
            if (lsr & LSR_ERRORS)
                panic("serial: line status error (overrun, parity, framing or break)");
            receive((char)inb(COM1 + RBR));
        }
        if (lsr & LSR_ERRORS)
            panic("serial: line status error without data");
    }
    lapic_eoi();
}

static void unexpected_interrupt(struct trap_frame *f)
{
    report((uint32_t)f->vector);
    exit(EXIT_UNEXPECTED_VECTOR);
}

int main(const struct jvfio_boot_info *boot)
{
    uint32_t lines_wanted = (uint32_t)boot->args[0];

    outb(COM1 + SCR, 0xA5);
    ASSERT(inb(COM1 + SCR) == 0xA5);
    outb(COM1 + IER, 0);
    outb(COM1 + LCR, LCR_DLAB | LCR_8N1);
    outb(COM1 + DLL, 1);
    outb(COM1 + DLM, 0);
    outb(COM1 + LCR, LCR_8N1);
    outb(COM1 + FCR, FCR_ENABLE_CLEAR_TRIGGER_8);
    ASSERT((inb(COM1 + IIR) & IIR_FIFOS) == IIR_FIFOS);
    outb(COM1 + MCR, MCR_DTR_RTS_OUT2);

    for (int v = 32; v < LAPIC_SPURIOUS_VECTOR; v++)
        idt_set_handler((uint8_t)v, unexpected_interrupt);
    idt_set_handler(UART_VECTOR, uart_interrupt);
    lapic_enable();
    ioapic_route(COM1_IRQ, UART_VECTOR, TRIGGER_EDGE, (uint8_t)lapic_id());
    ioapic_unmask(COM1_IRQ);
    outb(COM1 + IER, IER_RECEIVED_DATA | IER_LINE_STATUS);
    uart_print("serial: ready\n");

    /* The flags are read with interrupts off; wait_for_interrupt cannot miss one arriving after the check. */
    while (lines_done < lines_wanted) {
        while (!pending_ready)
            wait_for_interrupt();
        uart_print("echo: ");
        for (uint32_t i = 0; i < pending_length; i++)
            uart_putc(pending[i]);
        uart_putc('\n');
        pending_ready = 0;
        lines_done++;
        outb(COM1 + IER, IER_RECEIVED_DATA | IER_LINE_STATUS);
    }

    outb(COM1 + IER, 0);
    ioapic_mask(COM1_IRQ);
    report(interrupts);
    report(bytes_received);
    return 0;
}
