package io.jvfio.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * What processes' threads have used so far, all threads together, read from /proc: CPU time
 * (/proc/PID/task/TID/schedstat, ns) and context switches (voluntary and not, from .../status).
 */
record CpuTime(long cpuNs, long switches) {
    /** HotSpot's JIT compiler threads, "C1 CompilerThread0" and the like, as the kernel keeps their names. */
    private static final Predicate<String> COMPILER_THREAD =
            Pattern.compile("C[12] CompilerThre.*").asMatchPredicate();

    /** The sum over the live threads of {@code pids}; zeros where /proc says nothing. */
    static CpuTime of(long... pids) {
        return ofThreads(name -> true, pids);
    }

    /**
     * The CPU time, in ms, that the JIT compiler threads of the JVMs {@code pids} have used so far: they
     * take CPUs from whatever runs beside them, and a JVM's own count ({@code CompilationMXBean}) leaves
     * out the child JVMs.
     */
    static long compilerMillis(long... pids) {
        return ofThreads(COMPILER_THREAD, pids).cpuNs() / 1_000_000;
    }

    private static CpuTime ofThreads(Predicate<String> named, long... pids) {
        long cpu = 0;
        long switches = 0;
        for (long pid : pids) {
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : tasks) {
                    try {
                        if (!named.test(Files.readString(task.resolve("comm")).strip())) {
                            continue;
                        }
                        String stat = Files.readString(task.resolve("schedstat"));
                        cpu += Long.parseLong(stat.substring(0, stat.indexOf(' ')));
                        for (String line : Files.readAllLines(task.resolve("status"))) {
                            if (line.startsWith("voluntary_ctxt_switches:")
                                    || line.startsWith("nonvoluntary_ctxt_switches:")) {
                                switches += Long.parseLong(
                                        line.substring(line.indexOf(':') + 1).trim());
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        // the thread ended meanwhile
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }
        return new CpuTime(cpu, switches);
    }

    CpuTime minus(CpuTime earlier) {
        return new CpuTime(cpuNs - earlier.cpuNs, switches - earlier.switches);
    }
}
