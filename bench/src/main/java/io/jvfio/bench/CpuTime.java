package io.jvfio.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * What processes' threads have used so far, all threads together, read from /proc: CPU time
 * (/proc/PID/task/TID/schedstat, ns) and context switches (voluntary and not, from .../status).
 */
record CpuTime(long cpuNs, long switches) {
    static final CpuTime ZERO = new CpuTime(0, 0);
    /** HotSpot's JIT compiler threads, "C1 CompilerThread0" and the like, as the kernel keeps their names. */
    private static final Predicate<String> COMPILER_THREAD =
            Pattern.compile("C[12] CompilerThre.*").asMatchPredicate();

    /** A tracker of all the threads of {@code pids}. */
    static Tracker of(long... pids) {
        return new Tracker(name -> true, pids);
    }

    /**
     * A tracker of the JIT compiler threads of the JVMs {@code pids}: they take CPUs from whatever runs beside
     * them, and a JVM's own count ({@code CompilationMXBean}) leaves out the child JVMs.
     */
    static Tracker compilers(long... pids) {
        return new Tracker(COMPILER_THREAD, pids);
    }

    /**
     * Totals of some threads of some processes that never go down: a thread that ended since the last
     * {@link #sample} still counts with what it had used then. A plain sum over the live threads falls when
     * one ends (HotSpot ends idle compiler threads it added, with all the CPU they used), so the difference
     * of two sums could be below zero, and a JIT that had been busy looked quiet.
     */
    static final class Tracker {
        private final Predicate<String> named;
        private final long[] pids;
        private Map<Long, CpuTime> live = Map.of();
        private CpuTime ended = ZERO;

        Tracker(Predicate<String> named, long... pids) {
            this.named = named;
            this.pids = pids.clone();
        }

        /** What the threads have used so far, those that ended included. */
        CpuTime sample() {
            return update(threads(named, pids));
        }

        /** Takes the figures of the live threads now, by thread id; returns the total so far. */
        CpuTime update(Map<Long, CpuTime> now) {
            for (Map.Entry<Long, CpuTime> thread : live.entrySet()) {
                CpuTime was = thread.getValue();
                CpuTime is = now.get(thread.getKey());
                // Gone, or its id went to a new thread that has used less so far.
                if (is == null || is.cpuNs < was.cpuNs || is.switches < was.switches) {
                    ended = ended.plus(was);
                }
            }
            live = Map.copyOf(now);
            return now.values().stream().reduce(ended, CpuTime::plus);
        }
    }

    /** The figures of the live threads of {@code pids} named as {@code named} accepts, by thread id. */
    private static Map<Long, CpuTime> threads(Predicate<String> named, long... pids) {
        Map<Long, CpuTime> threads = new HashMap<>();
        for (long pid : pids) {
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : tasks) {
                    try {
                        if (!named.test(Files.readString(task.resolve("comm")).strip())) {
                            continue;
                        }
                        String stat = Files.readString(task.resolve("schedstat"));
                        long cpu = Long.parseLong(stat.substring(0, stat.indexOf(' ')));
                        long switches = 0;
                        for (String line : Files.readAllLines(task.resolve("status"))) {
                            if (line.startsWith("voluntary_ctxt_switches:")
                                    || line.startsWith("nonvoluntary_ctxt_switches:")) {
                                switches += Long.parseLong(
                                        line.substring(line.indexOf(':') + 1).trim());
                            }
                        }
                        threads.put(Long.parseLong(task.getFileName().toString()), new CpuTime(cpu, switches));
                    } catch (IOException | RuntimeException e) {
                        // the thread ended meanwhile
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }
        return threads;
    }

    CpuTime plus(CpuTime other) {
        return new CpuTime(cpuNs + other.cpuNs, switches + other.switches);
    }

    CpuTime minus(CpuTime earlier) {
        return new CpuTime(cpuNs - earlier.cpuNs, switches - earlier.switches);
    }
}
