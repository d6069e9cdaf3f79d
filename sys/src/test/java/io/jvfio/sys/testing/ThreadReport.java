package io.jvfio.sys.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What every thread of this process is doing, for a test that stopped waiting and must say why: each native
 * thread (/proc/self/task) with its state, kernel wait channel and signal masks (SigPnd/ShdPnd: pending on
 * the thread/process; SigBlk: blocked), then each Java thread's stack. The /proc part comes first because
 * it needs no safepoint: it is there even when the JVM cannot stop its threads for the stacks. Java
 * threads carry their name (cut to 15 bytes) as the native thread's comm, which pairs the two lists.
 */
public final class ThreadReport {
    private ThreadReport() {}

    /** The report, several lines per thread. */
    public static String now() {
        StringBuilder out = new StringBuilder("native threads (tid comm: state wchan | SigPnd ShdPnd SigBlk):\n");
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.sorted().toList()) {
                out.append("  ")
                        .append(task.getFileName())
                        .append(' ')
                        .append(read(task.resolve("comm")))
                        .append(": ")
                        .append(state(read(task.resolve("stat"))))
                        .append(' ')
                        .append(read(task.resolve("wchan")))
                        .append(" |")
                        .append(signalLines(task))
                        .append('\n');
            }
        } catch (IOException e) {
            out.append("  cannot list /proc/self/task: ").append(e).append('\n');
        }
        out.append("Java threads:\n");
        for (Map.Entry<Thread, StackTraceElement[]> e :
                Thread.getAllStackTraces().entrySet()) {
            Thread t = e.getKey();
            out.append("  \"")
                    .append(t.getName())
                    .append("\" ")
                    .append(t.getState())
                    .append(t.isDaemon() ? " daemon" : "")
                    .append('\n');
            for (StackTraceElement frame : e.getValue()) {
                out.append("      at ").append(frame).append('\n');
            }
        }
        return out.toString();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    /** The state letter of a stat line: the field after the parenthesised comm. */
    private static String state(String stat) {
        int close = stat.lastIndexOf(')');
        return close < 0 || close + 2 >= stat.length() ? "?" : stat.substring(close + 2, close + 3);
    }

    private static String signalLines(Path task) {
        StringBuilder out = new StringBuilder();
        try {
            List<String> lines = Files.readAllLines(task.resolve("status"));
            for (String key : List.of("SigPnd:", "ShdPnd:", "SigBlk:")) {
                lines.stream()
                        .filter(l -> l.startsWith(key))
                        .findFirst()
                        .ifPresent(l ->
                                out.append(' ').append(l.substring(key.length()).strip()));
            }
        } catch (IOException e) {
            out.append(" ?");
        }
        return out.toString();
    }
}
