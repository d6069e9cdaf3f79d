package io.jvfio.cli;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;

/**
 * {@code --trace FILE}: a JFR recording of jvfio's own events ({@code io.jvfio.*}) and nothing else,
 * written to FILE when the command ends (also when the JVM is stopped by a signal, as {@code serve} is).
 */
final class Trace implements AutoCloseable {
    /**
     * The events of {@code io.jvfio.platform.observe}, by name: JFR applies settings by name, also to event
     * classes that load only later (most of them load when the first device is realized).
     */
    private static final List<String> EVENTS = List.of(
            "io.jvfio.IrqStateChange",
            "io.jvfio.IrqInjection",
            "io.jvfio.IrqCoalesced",
            "io.jvfio.IrqEoi",
            "io.jvfio.IrqUnmask",
            "io.jvfio.FastPathSwitch",
            "io.jvfio.TrappedAccess");

    private static final String PREFIX = "io.jvfio.";

    private final Recording recording;
    private final Path file;

    private Trace(Recording recording, Path file) {
        this.recording = recording;
        this.file = file;
    }

    static Trace start(Path file) {
        Recording recording = new Recording();
        recording.setName("jvfio --trace");
        for (String event : EVENTS) {
            recording.enable(event).withoutThreshold();
        }
        // Events of other jvfio modules that registered already (names io.jvfio.*), with the same settings.
        FlightRecorder.getFlightRecorder().getEventTypes().stream()
                .map(EventType::getName)
                .filter(name -> name.startsWith(PREFIX))
                .forEach(name -> recording.enable(name).withoutThreshold());
        recording.setToDisk(true);
        try {
            recording.setDestination(file.toAbsolutePath());
        } catch (IOException e) {
            recording.close();
            // A FILE that cannot be written is a bad option value, as --kernel or --file that cannot be read.
            throw new UsageException("--trace " + file + ": cannot write the recording there: "
                    + (e instanceof FileSystemException fileProblem
                            ? Jvfio.fileProblem(fileProblem)
                            : Jvfio.describe(e)));
        }
        recording.setDumpOnExit(true);
        recording.start();
        return new Trace(recording, file);
    }

    /** Stops the recording, which writes it to the file. */
    @Override
    public void close() {
        try {
            recording.stop();
        } catch (IllegalStateException e) {
            // already stopped (the JVM is shutting down and JFR dumped it)
        } finally {
            recording.close();
        }
    }

    Path file() {
        return file;
    }
}
