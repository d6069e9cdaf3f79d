package io.jvfio.sys.testing;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects what the loggers of some classes log while open, for tests that count log lines. Its handler is
 * its own, so a test module that uses it need not read java.logging.
 */
public final class CapturedLog implements AutoCloseable {
    private final List<String> messages = new CopyOnWriteArrayList<>();
    /** Held so the loggers (weakly kept by the log manager) keep the handler while this is open. */
    private final List<Logger> loggers;

    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            messages.add(record.getMessage());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    public CapturedLog(Class<?>... sources) {
        loggers = Arrays.stream(sources).map(c -> Logger.getLogger(c.getName())).toList();
        loggers.forEach(logger -> logger.addHandler(handler));
    }

    @Override
    public void close() {
        loggers.forEach(logger -> logger.removeHandler(handler));
    }

    public List<String> messages() {
        return List.copyOf(messages);
    }

    /** How many messages contain {@code fragment}. */
    public long count(String fragment) {
        return messages.stream().filter(m -> m.contains(fragment)).count();
    }
}
