package io.jvfio.chips.serial;

/**
 * The PC16550D's register map (docs/devices/uart16550.md): the eight register offsets, which the caller
 * derives from a port or an MMIO address and its register shift, and the bits of each register, named
 * after the datasheet. Guest-facing tests and device models use these names so the map is written once.
 */
public final class Uart16550Registers {
    /** How many register offsets the UART decodes (A0-A2). */
    public static final int REGISTER_COUNT = 8;

    /** Read with DLAB=0: the receiver buffer (the top of the RX FIFO). */
    public static final int RBR = 0;
    /** Written with DLAB=0: the transmitter holding register (the tail of the TX FIFO). */
    public static final int THR = 0;
    /** With DLAB=1: the divisor latch's low byte. */
    public static final int DLL = 0;
    /** With DLAB=0: the interrupt enable register. */
    public static final int IER = 1;
    /** With DLAB=1: the divisor latch's high byte. */
    public static final int DLM = 1;
    /** Read: the interrupt identification register. */
    public static final int IIR = 2;
    /** Written: the FIFO control register. */
    public static final int FCR = 2;

    public static final int LCR = 3;
    public static final int MCR = 4;
    public static final int LSR = 5;
    public static final int MSR = 6;
    public static final int SCR = 7;

    public static final int IER_RECEIVED_DATA = 0x01;
    public static final int IER_THR_EMPTY = 0x02;
    public static final int IER_LINE_STATUS = 0x04;
    public static final int IER_MODEM_STATUS = 0x08;
    /** IER bits 4-7 are not implemented: they read 0. */
    public static final int IER_IMPLEMENTED = 0x0F;

    /** IIR bit 0 set: no interrupt pending. */
    public static final int IIR_NO_INTERRUPT = 0x01;

    public static final int IIR_MODEM_STATUS = 0x00;
    public static final int IIR_THR_EMPTY = 0x02;
    public static final int IIR_RECEIVED_DATA = 0x04;
    public static final int IIR_LINE_STATUS = 0x06;
    public static final int IIR_CHARACTER_TIMEOUT = 0x0C;
    /** The interrupt identification field (bits 0-3). */
    public static final int IIR_ID_MASK = 0x0F;
    /** Bits 6-7, set while FCR bit 0 is: what tells a 16550A from a 16450 or a broken 16550. */
    public static final int IIR_FIFOS_ENABLED = 0xC0;

    public static final int FCR_FIFO_ENABLE = 0x01;
    public static final int FCR_CLEAR_RECEIVER = 0x02;
    public static final int FCR_CLEAR_TRANSMITTER = 0x04;
    public static final int FCR_DMA_MODE = 0x08;
    public static final int FCR_TRIGGER_1 = 0x00;
    public static final int FCR_TRIGGER_4 = 0x40;
    public static final int FCR_TRIGGER_8 = 0x80;
    public static final int FCR_TRIGGER_14 = 0xC0;
    public static final int FCR_TRIGGER_MASK = 0xC0;

    /** Word length field: 0-3 for 5-8 data bits. */
    public static final int LCR_WORD_LENGTH_MASK = 0x03;

    public static final int LCR_WORD_LENGTH_8 = 0x03;
    /** 2 stop bits (1.5 with 5-bit words). */
    public static final int LCR_STOP_BITS = 0x04;

    public static final int LCR_PARITY_ENABLE = 0x08;
    public static final int LCR_EVEN_PARITY = 0x10;
    public static final int LCR_STICK_PARITY = 0x20;
    public static final int LCR_BREAK = 0x40;
    /** Divisor latch access: offsets 0 and 1 become DLL and DLM. */
    public static final int LCR_DLAB = 0x80;

    public static final int MCR_DTR = 0x01;
    public static final int MCR_RTS = 0x02;
    public static final int MCR_OUT1 = 0x04;
    /** On a PC, the OUT2 pin enables the UART's interrupt onto the ISA IRQ line. */
    public static final int MCR_OUT2 = 0x08;

    public static final int MCR_LOOPBACK = 0x10;
    /** MCR bits 5-7 are not implemented on the 16550A: they read 0. */
    public static final int MCR_IMPLEMENTED = 0x1F;

    public static final int LSR_DATA_READY = 0x01;
    public static final int LSR_OVERRUN = 0x02;
    public static final int LSR_PARITY_ERROR = 0x04;
    public static final int LSR_FRAMING_ERROR = 0x08;
    public static final int LSR_BREAK = 0x10;
    public static final int LSR_THR_EMPTY = 0x20;
    /** THR (or TX FIFO) and the transmitter shift register both empty. */
    public static final int LSR_TRANSMITTER_EMPTY = 0x40;
    /** FIFO mode: at least one parity, framing or break error in the RX FIFO. */
    public static final int LSR_RECEIVER_FIFO_ERROR = 0x80;
    /** The bits whose presence is a receiver line status interrupt. */
    public static final int LSR_ERRORS = LSR_OVERRUN | LSR_PARITY_ERROR | LSR_FRAMING_ERROR | LSR_BREAK;

    public static final int MSR_DELTA_CTS = 0x01;
    public static final int MSR_DELTA_DSR = 0x02;
    /** RI went from asserted to not asserted. */
    public static final int MSR_TRAILING_EDGE_RI = 0x04;

    public static final int MSR_DELTA_DCD = 0x08;
    public static final int MSR_DELTAS = 0x0F;
    public static final int MSR_CTS = 0x10;
    public static final int MSR_DSR = 0x20;
    public static final int MSR_RI = 0x40;
    public static final int MSR_DCD = 0x80;

    /** The UART's reference clock on a PC: 1.8432 MHz, so divisor 1 is 115200 baud. */
    public static final long INPUT_CLOCK_HZ = 1_843_200;
    /** The receive and transmit FIFOs' depth. */
    public static final int FIFO_DEPTH = 16;

    private Uart16550Registers() {}
}
