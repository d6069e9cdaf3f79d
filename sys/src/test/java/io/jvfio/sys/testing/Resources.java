package io.jvfio.sys.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Counts of what this process holds, for tests that check nothing leaks. */
public final class Resources {
    private Resources() {}

    /** Open file descriptors of this process. */
    public static int openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
        }
    }

    /** What descriptor {@code number} of this process names now ({@code /proc/self/fd}'s link), if it is open. */
    public static Optional<String> fileBehind(int number) {
        try {
            return Optional.of(
                    Files.readSymbolicLink(Path.of("/proc/self/fd/" + number)).toString());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/fd/" + number, e);
        }
    }

    /**
     * Open file descriptors other than jar files: the JVM opens a jar the first time it loads a class
     * from it, which a leak check that starts before that would count against the code under test.
     */
    public static int openFdsOtherThanJars() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.filter(fd -> {
                        try {
                            return !Files.readSymbolicLink(fd).toString().endsWith(".jar");
                        } catch (IOException e) {
                            return false;
                        }
                    })
                    .count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
        }
    }

    /** Memory mappings of this process whose line in /proc/self/maps contains {@code fragment}. */
    public static int mappings(String fragment) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return (int) lines.filter(line -> line.contains(fragment)).count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/maps", e);
        }
    }

    /** Whether a memory mapping of this process covers {@code address}. */
    public static boolean mapped(long address) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.map(line -> line.substring(0, line.indexOf(' ')).split("-"))
                    .anyMatch(range -> Long.compareUnsigned(Long.parseUnsignedLong(range[0], 16), address) <= 0
                            && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/maps", e);
        }
    }

    /** Memory mappings of this process (lines of /proc/self/maps). */
    public static int mappings() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return (int) lines.count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/maps", e);
        }
    }

    /** POSIX timers of this process (timer_create), as /proc/self/timers lists them. */
    public static int posixTimers() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/timers"))) {
            return (int) lines.filter(line -> line.startsWith("ID:")).count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/timers", e);
        }
    }

    /**
     * Live threads of this JVM that a leak check counts. Left out are the JDK's own pool threads that
     * retire by themselves: fork-join workers (started on demand for CompletableFuture and the test
     * framework) and process reapers (one per child process being waited for); both end only after a
     * minute idle, so counting them would blame jvfio, which starts neither, for whatever ran before.
     */
    public static Set<Thread> liveThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> !(thread instanceof ForkJoinWorkerThread))
                .filter(thread -> !thread.getName().startsWith("process reaper"))
                .collect(Collectors.toUnmodifiableSet());
    }

    /** How many threads {@link #liveThreads()} finds. */
    public static int threads() {
        return liveThreads().size();
    }

    /**
     * Names of the threads alive now that were not in {@code before}: what the code under test started
     * and has not ended. Unlike a count, a thread of an earlier test that ends meanwhile cannot hide one.
     */
    public static List<String> threadsStartedSince(Set<Thread> before) {
        return liveThreads().stream()
                .filter(thread -> !before.contains(thread))
                .map(Thread::getName)
                .sorted()
                .toList();
    }

    /**
     * Waits up to {@code timeout} for the threads started since {@code before} to end (a closed
     * connection's threads end just after close returns) and returns the names of those still alive.
     */
    public static List<String> threadsStillAliveAfter(Set<Thread> before, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> alive = threadsStartedSince(before);
        while (!alive.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
            alive = threadsStartedSince(before);
        }
        return alive;
    }
}
