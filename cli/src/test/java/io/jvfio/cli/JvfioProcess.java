package io.jvfio.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code jvfio ARGS} as a child process on this JVM's class path, as a user's shell starts it: stdin is
 * a pipe the test writes to (or a file), stdout and stderr are kept as they come, so a test can wait for
 * a line before it types the next.
 */
final class JvfioProcess implements AutoCloseable {
    private final Process process;
    private final long startedNanos;
    private final StringBuilder out = new StringBuilder();
    private final StringBuilder err = new StringBuilder();
    private final Thread outReader;
    private final Thread errReader;

    private JvfioProcess(Process process, long startedNanos) {
        this.process = process;
        this.startedNanos = startedNanos;
        this.outReader = Thread.ofPlatform()
                .daemon()
                .name("jvfio stdout " + process.pid())
                .start(() -> collect(process.getInputStream(), out));
        this.errReader = Thread.ofPlatform()
                .daemon()
                .name("jvfio stderr " + process.pid())
                .start(() -> collect(process.getErrorStream(), err));
    }

    /**
     * Starts {@code jvfio ARGS} with {@code stdin} as its standard input, with this JVM's options (in the
     * nested guest tiers.sh's {@code -XX:TieredStopAtLevel=1}: C2 compiling under emulation slows a boot
     * by tens of seconds).
     */
    static JvfioProcess start(ProcessBuilder.Redirect stdin, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of(
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Jvfio.class.getName()));
        command.addAll(List.of(args));
        long started = System.nanoTime();
        return new JvfioProcess(new ProcessBuilder(command).redirectInput(stdin).start(), started);
    }

    private void collect(InputStream stream, StringBuilder into) {
        byte[] chunk = new byte[4096];
        try (stream) {
            int n;
            while ((n = stream.read(chunk)) >= 0) {
                synchronized (this) {
                    into.append(new String(chunk, 0, n, StandardCharsets.ISO_8859_1));
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // The process is gone: what it printed is kept.
        }
    }

    /**
     * Waits until stdout contains {@code text}; returns the seconds from the process's start to then,
     * or -1 when the process ended or {@code timeout} passed first.
     */
    synchronized double awaitOut(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (out.indexOf(text) < 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || (!outReader.isAlive() && out.indexOf(text) < 0)) {
                return -1;
            }
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        }
        return (System.nanoTime() - startedNanos) / 1e9;
    }

    /** Writes {@code text} to its stdin (a pipe) at once. */
    void type(String text) throws IOException {
        OutputStream stdin = process.getOutputStream();
        stdin.write(text.getBytes(StandardCharsets.US_ASCII));
        stdin.flush();
    }

    /** Its exit code once it exited and its output was read, or -1 when {@code timeout} passed first. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return -1;
        }
        outReader.join(5000);
        errReader.join(5000);
        return process.exitValue();
    }

    synchronized String out() {
        return out.toString();
    }

    synchronized String err() {
        return err.toString();
    }

    /** Kills it if it still runs. */
    @Override
    public void close() throws IOException {
        process.getOutputStream().close();
        process.destroyForcibly();
    }
}
