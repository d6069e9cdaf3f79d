package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.Tiers;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag(Tiers.PROCESS)
class ProcessTreeTest {
    @Test
    void destroyKillsWhatTheProcessForkedToo() throws Exception {
        Process process = new ProcessBuilder("sh", "-c", "sleep 600 & sleep 600").start();
        ProcessHandle child = null;
        for (int i = 0; i < 500 && child == null; i++) {
            child = process.children().findFirst().orElse(null);
            Thread.sleep(10);
        }
        assertThat(child).as("the shell's forked sleep").isNotNull();
        ProcessTree.destroy(process);
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(child.onExit().get(10, TimeUnit.SECONDS).isAlive()).isFalse();
    }

    @Test
    void destroyLeavesAnExitedProcessAndItsOrphansAlone() throws Exception {
        Process process = new ProcessBuilder("sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!").start();
        long orphan = Long.parseLong(new String(process.getInputStream().readAllBytes()).strip());
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        try {
            ProcessTree.destroy(process);
            assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive)).contains(true);
        } finally {
            ProcessHandle.of(orphan).ifPresent(ProcessHandle::destroyForcibly);
        }
    }
}
