package io.jvfio.machine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.jvfio.machine.bus.PioDevice;

/**
 * The ports of the guest contract besides the exit port: the console (0x3F8, a UART's data register:
 * bytes written are collected, optionally echoed; its line status register reads "ready to send"; while
 * the line control register's DLAB bit is set, offset 0 is the baud divisor, which Linux's serial drivers
 * write there, not a byte to print) and the report port (0x502: each 32-bit write is appended to a list
 * tests read).
 */
public final class GuestPorts {
    public static final int CONSOLE_PORT = 0x3F8;
    public static final int CONSOLE_PORTS = 8;
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

    public PioDevice console() {
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
                    synchronized (console) {
                        console.write((int) value);
                    }
                    if (echo != null) {
                        echo.write((int) value);
                        if (value == '\n') {
                            echo.flush();
                        }
                    }
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
