package io.jvfio.sys.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;

/** What the kernel says of this process's threads, found by name, for tests that watch one at work. */
public final class NativeThreads {
    private NativeThreads() {}

    /**
     * Whether the named thread waits in a system call whose first argument is {@code fd} (from
     * /proc/self/task/TID/syscall), so a test can act once another thread is blocked in that call.
     */
    public static boolean blockedInASystemCallOn(String name, int fd) throws IOException {
        Optional<Path> task = task(name);
        if (task.isEmpty()) {
            return false;
        }
        String[] call = Files.readString(task.get().resolve("syscall")).strip().split(" ");
        return call.length > 1 && !call[0].equals("running") && Long.decode(call[1]) == fd;
    }

    /**
     * CPU time the named thread has used, user and system, in clock ticks (/proc/self/task/TID/stat). A
     * thread just started may not carry its name yet (the JVM names the kernel's thread from the thread
     * itself, after {@code Thread.start} returned): waits up to {@link #NAMED_WITHIN} for it.
     */
    public static long cpuTicks(String name) throws IOException, InterruptedException {
        Path task = named(name);
        String stat = Files.readString(task.resolve("stat"));
        // Fields after the parenthesised name, which may hold spaces: state is field 3, utime 14, stime 15.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private static final Duration NAMED_WITHIN = Duration.ofSeconds(5);

    private static Path named(String name) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + NAMED_WITHIN.toNanos();
        while (true) {
            Optional<Path> task = task(name);
            if (task.isPresent()) {
                return task.get();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(
                        "no thread named " + name + " within " + NAMED_WITHIN.toSeconds() + " s");
            }
            Thread.sleep(1);
        }
    }

    /** The /proc directory of the thread whose name (as the kernel keeps it, at most 15 bytes) is given. */
    private static Optional<Path> task(String name) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                String comm;
                try {
                    comm = Files.readString(task.resolve("comm")).strip();
                } catch (NoSuchFileException ended) {
                    continue; // a thread that ended since the listing
                }
                if (comm.equals(name)) {
                    return Optional.of(task);
                }
            }
        }
        return Optional.empty();
    }
}
