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
 * send", and while the line control register's DLAB bit is set, offset 0 is the baud divisor, which
 * Linux's serial drivers write there, not a byte to print), whose transmitted bytes are collected here
 * (the latest 4 MiB) and optionally echoed, and the report port (0x502: each 32-bit write is appended to
 * a list tests read, up to 1 Mi values).
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
    /**
     * The console text kept, its latest bytes: the guest decides how much it prints (a Linux guest that
     * runs for days, or one that prints in a loop), and all of it would fill the heap. The tail is what
     * explains a guest's failure, and a boot's whole output is far smaller.
     */
    static final int CONSOLE_KEPT_BYTES = 4 << 20;
    /**
     * The reports kept, the first ones: a guest's contract reports a handful; one that reports in a loop
     * is cut off.
     */
    static final int REPORTS_KEPT = 1 << 20;

    private static final System.Logger LOG = System.getLogger(GuestPorts.class.getName());

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private long droppedConsoleBytes;
    private final List<Integer> reports = new ArrayList<>();
    private long droppedReports;
    private final PrintStream echo;
    private volatile boolean divisorLatch;

    /** {@code echo} receives console bytes as they come (null: collect only). */
    public GuestPorts(PrintStream echo) {
        this.echo = echo;
    }

    /** One byte the guest sent to the console, from whichever console device the machine has. */
    public void consoleOutput(byte value) {
        synchronized (console) {
            if (console.size() >= CONSOLE_KEPT_BYTES) {
                // Drop the oldest quarter at once, so that trimming costs O(1) a byte over time.
                byte[] kept = console.toByteArray();
                int dropped = CONSOLE_KEPT_BYTES / 4;
                console.reset();
                console.write(kept, dropped, kept.length - dropped);
                droppedConsoleBytes += dropped;
            }
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
                    if (reports.size() < REPORTS_KEPT) {
                        reports.add((int) value);
                        return;
                    }
                    if (droppedReports++ > 0) {
                        return;
                    }
                }
                LOG.log(
                        System.Logger.Level.WARNING,
                        "report port 0x" + Integer.toHexString(REPORT_PORT) + ": " + REPORTS_KEPT
                                + " values kept, later ones are dropped (logged once)");
            }
        };
    }

    /**
     * The console text so far (bytes as UTF-8): its last {@link #CONSOLE_KEPT_BYTES} bytes at most, after a
     * note of those dropped.
     */
    public String consoleText() {
        synchronized (console) {
            String text = console.toString(StandardCharsets.UTF_8);
            return droppedConsoleBytes == 0
                    ? text
                    : "[console: " + droppedConsoleBytes + " earlier bytes dropped]\n" + text;
        }
    }

    /** How many reports came after {@link #REPORTS_KEPT} and were not kept. */
    long droppedReports() {
        synchronized (reports) {
            return droppedReports;
        }
    }

    /** The reported values so far, in order (the first {@link #REPORTS_KEPT}). */
    public List<Integer> reports() {
        synchronized (reports) {
            return List.copyOf(reports);
        }
    }
}
