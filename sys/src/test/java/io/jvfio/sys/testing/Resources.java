package io.jvfio.sys.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Counts of what this process holds, for tests that check nothing leaks. */
public final class Resources {
    private Resources() {
    }

    /** Open file descriptors of this process. */
    public static int openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
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

    /** Live threads of this JVM. */
    public static int threads() {
        return Thread.getAllStackTraces().size();
    }
}
