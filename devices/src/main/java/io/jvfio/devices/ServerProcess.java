package io.jvfio.devices;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server in a child JVM on this JVM's module path or class path: a device model served over vfio-user as {@code jvfio
 * serve} runs it, where the device lives in another process and killing that process is a device crash,
 * or a benchmark's raw peer. Every child JVM jvfio starts (the demo's, the tests' and the benchmarks') is
 * one of these, and its command line comes from {@link #javaCommand}. The child's output (stdout and
 * stderr, one pipe) is read all the time, so that it never blocks on a full pipe, and kept for callers
 * that wait for a line and for error messages. Closing stops the child (SIGTERM, then SIGKILL), waits for
 * its output to end and removes the socket.
 */
public final class ServerProcess implements AutoCloseable {
    /** What {@link ServeMain} and {@code jvfio serve} print once the socket listens. */
    private static final Pattern READY = Pattern.compile("serving .*");
    /** What {@link ServeMain#serveUntilStopped} logs when a client leaves: its number, then the model's counters. */
    private static final Pattern CLIENT_LEFT = Pattern.compile(".*client (\\d+) left; (.*)");
    /** How long a child may take to listen: a JVM starting under software emulation is slow. */
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    private static final long STOP_SECONDS = 30;
    /** Unread lines kept at most: a child that logs while nobody waits for its lines must not fill this heap. */
    private static final int UNREAD_LINES = 10_000;
    /** The first lines kept for a start that failed: a JVM that dies at start-up says why at the top (its fatal-error banner). */
    private static final int FIRST_LINES = 8;

    private final Process process;
    private final Path socket;
    private final Thread drain;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<String> unread = new ArrayDeque<>();
    private final List<String> firstLines = new ArrayList<>();
    private String lastLine;
    private boolean outputEnded;

    private ServerProcess(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
        this.drain = Thread.ofPlatform()
                .daemon()
                .name("device server output " + process.pid())
                .start(this::drain);
    }

    /**
     * Starts {@link ServeMain} {@code --socket SOCKET SERVE_ARGS} (the test device) in a child JVM with
     * {@code jvmOptions} and waits until it prints that it listens.
     */
    public static ServerProcess start(Path socket, List<String> jvmOptions, List<String> serveArgs) throws IOException {
        List<String> mainAndArgs = new ArrayList<>(List.of(ServeMain.class.getName(), "--socket", socket.toString()));
        mainAndArgs.addAll(serveArgs);
        return startMain(socket, READY_TIMEOUT, jvmOptions, mainAndArgs);
    }

    /**
     * Starts {@code MAIN_AND_ARGS} in a child JVM ({@link #javaCommand}), a program that serves on
     * {@code socket}, and waits up to {@code readyTimeout} until it prints a line starting
     * {@code serving }.
     */
    public static ServerProcess startMain(
            Path socket, Duration readyTimeout, List<String> jvmOptions, List<String> mainAndArgs) throws IOException {
        return startCommand(socket, readyTimeout, javaCommand(jvmOptions, mainAndArgs));
    }

    /**
     * Starts {@code command}, a program that serves on {@code socket} (such as the {@code ./jvfio serve}
     * launcher, as a user runs it), and waits up to {@code readyTimeout} until it prints a line starting
     * {@code serving }.
     */
    public static ServerProcess startCommand(Path socket, Duration readyTimeout, List<String> command)
            throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        // The server reads nothing: no pipe to its stdin stays open here.
        process.getOutputStream().close();
        ServerProcess server = new ServerProcess(process, socket);
        try {
            if (server.awaitLine(READY, readyTimeout).isPresent()) {
                return server;
            }
            // Its output ends when it exits; a second is plenty for the exit to be seen.
            String why = process.waitFor(1, TimeUnit.SECONDS)
                    ? "exited with " + process.exitValue() + " before it listened"
                    : "did not listen within " + readyTimeout.toSeconds() + " s";
            server.close();
            throw new IOException(
                    "the device server on " + socket + " " + why + server.lastOutput() + server.firstOutput());
        } catch (InterruptedException e) {
            server.killAndRemoveSocket();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the device server on " + socket + " started", e);
        }
    }

    /**
     * Kills the child (SIGKILL), waits for it to be gone and removes its socket, which a killed server
     * leaves behind and which would make the next bind on that path fail (EADDRINUSE). Waits through an
     * interrupt (and keeps it): the socket must go only once nothing can bind it again.
     */
    private void killAndRemoveSocket() throws IOException {
        process.destroyForcibly();
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_SECONDS);
        while (process.isAlive() && System.nanoTime() < deadline) {
            try {
                process.waitFor(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(socket);
    }

    /**
     * The command line of a child JVM running {@code mainAndArgs} (a main class and its arguments) from where
     * this JVM found its code, with {@code jvmOptions}. On a module path (as ./jvfio and bench/run run) the
     * child gets the same module path, every module on it, native access for io.jvfio.sys alone, and starts
     * the class's module, with any class path of this JVM (bench's test-jars) passed on too; on the class
     * path (tests) it gets the class path and native access for it. Options of {@code jvmOptions} that say
     * where code is (a parent JVM's own input arguments) give way to these.
     */
    static List<String> javaCommand(List<String> jvmOptions, List<String> mainAndArgs) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java));
        // Inside the nested guest (software emulation) a child runs on C1 alone, as ./jvfio and the test
        // JVM do there: C2's compiles cost seconds under emulation, and device servers with C2 died there
        // (SIGSEGV, SIGILL, exit 134) in about one start in ten, which no C1-only JVM was seen to do.
        if ("1".equals(System.getenv("JVFIO_NESTED"))
                && jvmOptions.stream().noneMatch(option -> option.startsWith("-XX:TieredStopAtLevel="))) {
            command.add("-XX:TieredStopAtLevel=1");
        }
        command.addAll(jvmOptions.stream()
                .filter(option -> !option.startsWith("--enable-native-access=")
                        && !option.startsWith("--module-path=")
                        && !option.startsWith("--add-modules=")
                        && !option.startsWith("-Djdk.module.main="))
                .toList());
        command.addAll(launchArguments(mainAndArgs.getFirst()));
        command.addAll(mainAndArgs.subList(1, mainAndArgs.size()));
        return command;
    }

    private static List<String> launchArguments(String mainClass) {
        String classPath = System.getProperty("java.class.path", "");
        String modulePath = System.getProperty("jdk.module.path");
        Module module = mainModule(mainClass);
        if (modulePath == null || !module.isNamed()) {
            return List.of("--enable-native-access=ALL-UNNAMED", "-cp", classPath, mainClass);
        }
        List<String> arguments = new ArrayList<>(List.of(
                "--enable-native-access=io.jvfio.sys",
                "--module-path",
                modulePath,
                "--add-modules",
                "ALL-MODULE-PATH"));
        if (!classPath.isEmpty()) {
            arguments.addAll(List.of("-cp", classPath));
        }
        arguments.addAll(List.of("-m", module.getName() + "/" + mainClass));
        return arguments;
    }

    private static Module mainModule(String mainClass) {
        try {
            return Class.forName(mainClass, false, ServerProcess.class.getClassLoader())
                    .getModule();
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("no main class " + mainClass + " where this JVM finds its code", e);
        }
    }

    private void drain() {
        try (BufferedReader output =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean fatalBanner = false;
            while ((line = output.readLine()) != null) {
                // A JVM's fatal-error banner ("# A fatal error has been detected ...", then "#" lines with the
                // signal and the problematic frame) goes to this JVM's stderr as well: a server that dies in
                // the middle of a test leaves no other trace in the test's output.
                fatalBanner = line.startsWith("#") && (fatalBanner || line.contains("A fatal error has been detected"));
                if (fatalBanner) {
                    System.err.println("device server " + process.pid() + ": " + line);
                }
                lock.lock();
                try {
                    if (unread.size() == UNREAD_LINES) {
                        unread.removeFirst();
                    }
                    unread.addLast(line);
                    lastLine = line;
                    if (firstLines.size() < FIRST_LINES) {
                        firstLines.add(line.strip());
                    }
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        } catch (IOException e) {
            // the pipe broke: the child is gone, as at the end of its output
        } finally {
            lock.lock();
            try {
                outputEnded = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    public Path socket() {
        return socket;
    }

    public long pid() {
        return process.pid();
    }

    /**
     * The next line of the child's output that {@code pattern} matches as a whole, waiting up to
     * {@code timeout}; the lines before it are consumed. Empty when none came in time or the output ended.
     */
    public Optional<Matcher> awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                while (!unread.isEmpty()) {
                    Matcher matcher = pattern.matcher(unread.removeFirst());
                    if (matcher.matches()) {
                        return Optional.of(matcher);
                    }
                }
                if (outputEnded || left <= 0) {
                    return Optional.empty();
                }
                left = changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The model's counters the server logged when client {@code client} (1 for the first) left, e.g.
     * {@code line0.raises=20}; the lines before are consumed.
     */
    public Map<String, Long> awaitClientLeft(int client, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<Matcher> left;
        while ((left = awaitLine(CLIENT_LEFT, Duration.ofNanos(deadline - System.nanoTime()))).isPresent()) {
            Matcher matcher = left.get();
            if (Integer.parseInt(matcher.group(1)) == client) {
                Map<String, Long> totals = new LinkedHashMap<>();
                for (String pair : matcher.group(2).trim().split(" ")) {
                    int equals = pair.indexOf('=');
                    if (equals > 0) {
                        totals.put(pair.substring(0, equals), Long.parseLong(pair.substring(equals + 1)));
                    }
                }
                return totals;
            }
        }
        throw new IOException("the device server did not report client " + client + " leaving within "
                + timeout.toSeconds() + " s" + lastOutput());
    }

    /** {@code "; its last output: LINE"} with the child's last line, or nothing before it printed one: for an error message. */
    public String lastOutput() {
        lock.lock();
        try {
            return lastLine == null ? "" : "; its last output: " + lastLine.strip();
        } finally {
            lock.unlock();
        }
    }

    /** {@code "; its first output: LINE | LINE ..."} when it said more than its last line, or nothing. */
    private String firstOutput() {
        lock.lock();
        try {
            return firstLines.size() < 2 ? "" : "; its first output: " + String.join(" | ", firstLines);
        } finally {
            lock.unlock();
        }
    }

    /** Kills the server as a crash would (SIGKILL) and waits for it to be gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(STOP_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * Stops the server (SIGTERM, then SIGKILL if it lingers) and removes its socket. An interrupt while
     * waiting kills the server at once and stays set for the caller: a close must not leave the child
     * behind, nor throw {@link InterruptedException} out of a try-with-resources.
     */
    @Override
    public void close() throws IOException {
        try {
            process.destroy();
            if (!process.waitFor(STOP_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(STOP_SECONDS, TimeUnit.SECONDS);
            }
            // The JDK closes the pipe once the child is reaped, which ends the drain.
            drain.join(Duration.ofSeconds(STOP_SECONDS));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            Files.deleteIfExists(socket);
        }
    }
}
