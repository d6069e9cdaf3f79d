package io.jvfio.machine;

import io.jvfio.machine.bus.PioDevice;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The ports of the guest contract besides the exit port: the console at COM1 (0x3F8-0x3FF, IRQ 4: a
 * 16550A, or with {@link ConsoleDevice#OUTPUT_PORT} just a data register whose line status reads "ready to
 * send", and while the line control register's DLAB bit is set, offset 0 is the baud divisor,
 * which Linux's serial drivers write there, not a byte to print), whose transmitted bytes are collected here and optionally echoed, and the report port (0x502:
 * each 32-bit write is appended to a list tests read).
 */
public final class GuestPorts {
    public static final int CONSOLE_PORT = 0x3F8;
    public static final int CONSOLE_PORTS = 8;
    /** COM1's ISA IRQ, which is IOAPIC pin (GSI) 4. */
    public static final int CONSOLE_GSI = 4;

    public static final int REPORT_PORT = 0x502;
    private static final int UART_LCR = 3;
    private static final int UART_LSR = 5;
    private static final int LCR_DLAB = 0x80;
    private static final int LSR_TRANSMITTER_EMPTY = 0x60;

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final List<Integer> reports = new ArrayList<>();
    private final PrintStream echo;
    private volatile boolean divisorLatch;

    /** {@code echo} receives console bytes as they come (null: collect only). */
    public GuestPorts(PrintStream echo) {
        this.echo = echo;
    }

    /** One byte the guest sent to the console, from whichever console device the machine has. */
    public void consoleOutput(byte value) {
        synchronized (console) {
            console.write(value);
        }
        if (echo != null) {
            echo.write(value);
            if (value == '\n') {
                echo.flush();
            }
        }
    }

    /** {@link ConsoleDevice#OUTPUT_PORT}: a write to offset 0 is a console byte; LSR reads "ready to send". */
    public PioDevice outputPortConsole() {
        return new PioDevice() {
            @Override
            public long read(long offset, int size) {
                return offset == UART_LSR ? LSR_TRANSMITTER_EMPTY : 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                if (offset == UART_LCR) {
                    divisorLatch = (value & LCR_DLAB) != 0;
                }
                if (offset == 0 && !divisorLatch) {
                    consoleOutput((byte) value);
                }
            }
        };
    }

    public PioDevice report() {
        return new PioDevice() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                synchronized (reports) {
                    reports.add((int) value);
                }
            }
        };
    }

    /** The console text so far (bytes as UTF-8). */
    public String consoleText() {
        synchronized (console) {
            return console.toString(StandardCharsets.UTF_8);
        }
    }

    /** The reported values so far, in order. */
    public List<Integer> reports() {
        synchronized (reports) {
            return List.copyOf(reports);
        }
    }
}
