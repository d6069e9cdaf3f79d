package io.jvfio.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.text.MessageFormat;
import java.util.ResourceBundle;

/**
 * The {@link System.Logger}s of every jvfio library in a {@code jvfio} process: one line on standard error
 * per message at INFO and above, {@code [16:25:01.901Z] WARNING: message}, the time in UTC as QEMU's
 * {@code -msg timestamp=on} gives it. It replaces java.util.logging, whose first message cost a command
 * 25-30 ms of its start-up (time zone rules, locale data, a stack walk for the caller, its log manager)
 * for a line whose source class and local time nobody reads.
 */
public final class ConsoleLoggerFinder extends System.LoggerFinder {
    private static final long MILLIS_PER_DAY = 86_400_000L;

    @Override
    public System.Logger getLogger(String name, Module module) {
        return new ConsoleLogger(name);
    }

    /** The line a message becomes, at {@code epochMillis}; {@code thrown} (or null) follows with its trace. */
    static String line(long epochMillis, System.Logger.Level level, String message, Throwable thrown) {
        long millisOfDay = Math.floorMod(epochMillis, MILLIS_PER_DAY);
        StringBuilder line = new StringBuilder(message.length() + 32).append('[');
        appendTwoDigits(line, millisOfDay / 3_600_000).append(':');
        appendTwoDigits(line, millisOfDay / 60_000 % 60).append(':');
        appendTwoDigits(line, millisOfDay / 1_000 % 60).append('.');
        long millis = millisOfDay % 1_000;
        if (millis < 100) {
            line.append('0');
        }
        appendTwoDigits(line, millis).append("Z] ");
        line.append(level.getName()).append(": ").append(message).append(System.lineSeparator());
        if (thrown != null) {
            StringWriter trace = new StringWriter();
            thrown.printStackTrace(new PrintWriter(trace));
            line.append(trace);
        }
        return line.toString();
    }

    /** {@code format} with {@code params} in it as {@link MessageFormat} places them, as System.Logger specifies. */
    static String message(String format, Object... params) {
        return params == null || params.length == 0
                ? String.valueOf(format)
                : MessageFormat.format(String.valueOf(format), params);
    }

    private static StringBuilder appendTwoDigits(StringBuilder line, long value) {
        if (value < 10) {
            line.append('0');
        }
        return line.append(value);
    }

    private record ConsoleLogger(String name) implements System.Logger {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            return level != Level.OFF && level.getSeverity() >= Level.INFO.getSeverity();
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String message, Throwable thrown) {
            if (isLoggable(level)) {
                System.err.print(line(System.currentTimeMillis(), level, String.valueOf(message), thrown));
            }
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            if (isLoggable(level)) {
                System.err.print(line(System.currentTimeMillis(), level, message(format, params), null));
            }
        }
    }
}
