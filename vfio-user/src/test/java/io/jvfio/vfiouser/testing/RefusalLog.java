package io.jvfio.vfiouser.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The lines a server's connections log while this is open, formatted as an operator reads them, for
 * tests that check what a refusal's one line names.
 */
public final class RefusalLog implements AutoCloseable {
    /** Held, so that the log manager (which keeps loggers weakly) keeps the handler while this is open. */
    private final Logger connection = Logger.getLogger("io.jvfio.vfiouser.server.Connection");

    private final SimpleFormatter formatter = new SimpleFormatter();
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            lines.add(formatter.formatMessage(record));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    public RefusalLog() {
        connection.addHandler(handler);
    }

    /** The lines logged so far that say a request was refused. */
    public List<String> refusals() {
        return lines.stream().filter(line -> line.contains(" refused: ")).toList();
    }

    /** The last refusal's line; fails when none was logged. */
    public String lastRefusal() {
        List<String> refusals = refusals();
        if (refusals.isEmpty()) {
            throw new AssertionError("no refusal was logged; lines: " + lines);
        }
        return refusals.getLast();
    }

    @Override
    public void close() {
        connection.removeHandler(handler);
    }
}
