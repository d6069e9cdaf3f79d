package io.jvfio.chips.serial;

import static io.jvfio.chips.serial.Uart16550Registers.*;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The register accesses Linux's 8250 driver makes on a port, in the order and with the decisions of
 * drivers/tty/serial/8250/8250_port.c: autoconfig() and its 16550A branch (which must end at
 * "16550A"), serial8250_do_startup()'s THRE and TX-enable tests, set_termios for 115200 8N1 with the
 * 16550A's FIFO setting, and an interrupt handler that moves bytes as serial8250_handle_irq() does.
 * Rewritten from the driver's behaviour for the tests; the clock stands in for its mdelay().
 */
final class Linux8250Driver {
    /** What offset 2 is to the EFR-bearing chips autoconfig probes for. */
    private static final int EFR = 2;
    /** LCR values the driver writes to reach the enhanced registers of other chips. */
    private static final int LCR_CONF_MODE_A = 0x80;

    private static final int LCR_CONF_MODE_B = 0xBF;
    /** FCR bit 5: 64-byte FIFO on a 16750. */
    private static final int FCR7_64BYTE = 0x20;
    /** IER bit 6: the XScale's UART unit enable. */
    private static final int IER_UUE = 0x40;

    private final Uart16550 uart;
    private final UartFixture.FakeClock clock;
    /** The tty's transmit buffer; the interrupt handler drains it. */
    private final Deque<Byte> transmitBuffer = new ArrayDeque<>();

    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private int interruptEnable;
    boolean threBug;
    boolean txenBug;

    Linux8250Driver(Uart16550 uart, UartFixture.FakeClock clock) {
        this.uart = uart;
        this.clock = clock;
    }

    private int in(int offset) {
        return uart.read(offset);
    }

    private void out(int offset, int value) {
        uart.write(offset, value);
    }

    /** autoconfig(): the port type's name, or why there is no UART. */
    String autoconfig() {
        int savedIer = in(IER);
        out(IER, 0);
        int ierCleared = in(IER) & 0x0F;
        out(IER, 0x0F);
        int ierSet = in(IER) & 0x0F;
        out(IER, savedIer);
        if (ierCleared != 0 || ierSet != 0x0F) {
            return "none: IER test failed";
        }
        int savedMcr = in(MCR);
        int savedLcr = in(LCR);
        out(MCR, MCR_LOOPBACK | MCR_RTS | MCR_OUT2);
        int loopStatus = in(MSR) & 0xF0;
        out(MCR, savedMcr);
        if (loopStatus != 0x90) {
            return "none: loopback test read MSR 0x" + Integer.toHexString(loopStatus);
        }
        out(LCR, LCR_CONF_MODE_B);
        out(EFR, 0);
        out(LCR, 0);
        out(FCR, FCR_FIFO_ENABLE);
        String type = switch (in(IIR) >> 6) {
            case 0 -> autoconfig8250();
            case 1 -> "unknown";
            case 2 -> "16550";
            default -> autoconfig16550a();
        };
        out(LCR, savedLcr);
        out(MCR, savedMcr);
        clearFifos();
        in(RBR);
        out(IER, 0);
        return type;
    }

    /** autoconfig_8250(): the scratch register test that tells a 16450 from an 8250. */
    String autoconfig8250() {
        int scratch = in(SCR);
        out(SCR, 0xA5);
        int first = in(SCR);
        out(SCR, 0x5A);
        int second = in(SCR);
        out(SCR, scratch);
        return first == 0xA5 && second == 0x5A ? "16450" : "8250";
    }

    private String autoconfig16550a() {
        out(LCR, LCR_CONF_MODE_A);
        if (in(EFR) == 0) {
            return "16650 (EFR under DLAB)";
        }
        out(LCR, LCR_CONF_MODE_B);
        if (in(EFR) == 0) {
            return "16650V2 or later (EFR under 0xBF)";
        }
        // National SuperIO: the LOOP bit of MCR shows through in EXCR1 (offset 2) in bank 2 (LCR 0xE0).
        out(LCR, 0);
        int mcr = in(MCR);
        out(LCR, 0xE0);
        int excr1 = in(2);
        if (((excr1 ^ mcr) & MCR_LOOPBACK) == 0) {
            out(LCR, 0);
            out(MCR, mcr ^ MCR_LOOPBACK);
            out(LCR, 0xE0);
            excr1 = in(2);
            out(LCR, 0);
            out(MCR, mcr);
            if (((excr1 ^ mcr) & MCR_LOOPBACK) != 0) {
                return "NS16550A (SuperIO)";
            }
        }
        // TI16750: IIR bit 5 follows FCR bit 5 only under DLAB.
        out(LCR, 0);
        out(FCR, FCR_FIFO_ENABLE | FCR7_64BYTE);
        int withoutDlab = in(IIR) >> 5;
        out(FCR, FCR_FIFO_ENABLE);
        out(LCR, LCR_CONF_MODE_A);
        out(FCR, FCR_FIFO_ENABLE | FCR7_64BYTE);
        int withDlab = in(IIR) >> 5;
        out(FCR, FCR_FIFO_ENABLE);
        out(LCR, 0);
        if (withoutDlab == 6 && withDlab == 7) {
            return "16750";
        }
        int savedIer = in(IER);
        out(IER, savedIer & ~IER_UUE);
        if ((in(IER) & IER_UUE) == 0) {
            out(IER, savedIer | IER_UUE);
            if ((in(IER) & IER_UUE) != 0) {
                return "XScale";
            }
        }
        out(IER, savedIer);
        return sizeFifo() == 64 ? "U6_16550A" : "16550A";
    }

    /** size_fifo(): fills the FIFO through loopback at divisor 1 and counts what comes back. */
    int sizeFifo() {
        int savedLcr = in(LCR);
        out(LCR, 0);
        int savedFcr = in(FCR);
        int savedMcr = in(MCR);
        out(FCR, FCR_FIFO_ENABLE | FCR_CLEAR_RECEIVER | FCR_CLEAR_TRANSMITTER);
        out(MCR, MCR_LOOPBACK);
        out(LCR, LCR_CONF_MODE_A);
        int savedDivisor = in(DLL) | in(DLM) << 8;
        out(DLL, 1);
        out(DLM, 0);
        out(LCR, LCR_WORD_LENGTH_8);
        for (int i = 0; i < 256; i++) {
            out(THR, i);
        }
        clock.advance(20_000_000L);
        int count = 0;
        while ((in(LSR) & LSR_DATA_READY) != 0 && count < 256) {
            in(RBR);
            count++;
        }
        out(FCR, savedFcr);
        out(MCR, savedMcr);
        out(LCR, LCR_CONF_MODE_A);
        out(DLL, savedDivisor & 0xFF);
        out(DLM, savedDivisor >>> 8);
        out(LCR, savedLcr);
        return count;
    }

    private void clearFifos() {
        out(FCR, FCR_FIFO_ENABLE);
        out(FCR, FCR_FIFO_ENABLE | FCR_CLEAR_RECEIVER | FCR_CLEAR_TRANSMITTER);
        out(FCR, 0);
    }

    /** serial8250_do_startup() on a port with an IRQ; false if the LSR safety check finds no UART. */
    boolean startup() {
        clearFifos();
        in(LSR);
        in(RBR);
        in(IIR);
        in(MSR);
        if (in(LSR) == 0xFF) {
            return false;
        }
        while ((in(LSR) & LSR_THR_EMPTY) == 0) {
            Thread.onSpinWait();
        }
        out(IER, IER_THR_EMPTY);
        int firstIir = in(IIR);
        out(IER, 0);
        out(IER, IER_THR_EMPTY);
        int secondIir = in(IIR);
        out(IER, 0);
        threBug = (firstIir & IIR_NO_INTERRUPT) == 0 && (secondIir & IIR_NO_INTERRUPT) != 0;
        out(LCR, LCR_WORD_LENGTH_8);
        out(MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
        out(IER, IER_THR_EMPTY);
        int lsr = in(LSR);
        int iir = in(IIR);
        out(IER, 0);
        txenBug = (lsr & LSR_TRANSMITTER_EMPTY) != 0 && (iir & IIR_NO_INTERRUPT) != 0;
        in(LSR);
        in(RBR);
        in(IIR);
        in(MSR);
        interruptEnable = IER_LINE_STATUS | IER_RECEIVED_DATA;
        return true;
    }

    /** set_termios for 115200 baud 8N1 on a 16550A: divisor 1, FIFOs with the 8-byte trigger. */
    void setTermios115200() {
        out(IER, interruptEnable);
        out(LCR, LCR_WORD_LENGTH_8 | LCR_DLAB);
        out(DLL, 1);
        out(DLM, 0);
        out(LCR, LCR_WORD_LENGTH_8);
        out(FCR, FCR_FIFO_ENABLE);
        out(FCR, FCR_FIFO_ENABLE | FCR_TRIGGER_8);
        out(MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
    }

    /** A tty write: queue the bytes and start the transmitter (enable the THRE interrupt). */
    void write(byte[] bytes) {
        for (byte b : bytes) {
            transmitBuffer.add(b);
        }
        if ((interruptEnable & IER_THR_EMPTY) == 0) {
            interruptEnable |= IER_THR_EMPTY;
            out(IER, interruptEnable);
        }
    }

    /** One run of the interrupt handler; false if the UART had nothing pending. */
    boolean handleInterrupt() {
        int iir = in(IIR);
        if ((iir & IIR_NO_INTERRUPT) != 0) {
            return false;
        }
        int lsr = in(LSR);
        while ((lsr & (LSR_DATA_READY | LSR_BREAK)) != 0) {
            received.write(in(RBR));
            lsr = in(LSR);
        }
        in(MSR);
        if ((lsr & LSR_THR_EMPTY) != 0 && (interruptEnable & IER_THR_EMPTY) != 0) {
            for (int loaded = 0; loaded < FIFO_DEPTH && !transmitBuffer.isEmpty(); loaded++) {
                out(THR, transmitBuffer.poll());
            }
            if (transmitBuffer.isEmpty()) {
                interruptEnable &= ~IER_THR_EMPTY;
                out(IER, interruptEnable);
            }
        }
        return true;
    }
}
