package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuTimeTest {
    private static CpuTime cpu(long ns) {
        return new CpuTime(ns, 0);
    }

    private static CpuTime.Tracker tracker() {
        return new CpuTime.Tracker(name -> true);
    }

    @Test
    void totalIsTheSumOverTheLiveThreads() {
        CpuTime total = tracker().update(Map.of(1L, new CpuTime(100, 2), 2L, new CpuTime(50, 3)));
        assertThat(total).isEqualTo(new CpuTime(150, 5));
    }

    @Test
    void aThreadThatEndedKeepsCountingSoTheDifferenceIsNeverNegative() {
        CpuTime.Tracker tracker = tracker();
        CpuTime before = tracker.update(Map.of(1L, cpu(30_000), 2L, cpu(100)));
        // the compiler thread 1 ends (HotSpot removes idle ones); thread 2 keeps running
        CpuTime after = tracker.update(Map.of(2L, cpu(160)));
        assertThat(after.minus(before)).isEqualTo(cpu(60));
    }

    @Test
    void aNewThreadCountsWithAllItUsed() {
        CpuTime.Tracker tracker = tracker();
        CpuTime before = tracker.update(Map.of(1L, cpu(100)));
        CpuTime after = tracker.update(Map.of(1L, cpu(100), 3L, cpu(40)));
        assertThat(after.minus(before)).isEqualTo(cpu(40));
    }

    @Test
    void anIdTakenByANewThreadKeepsTheOldThreadsCount() {
        CpuTime.Tracker tracker = tracker();
        CpuTime before = tracker.update(Map.of(7L, cpu(5_000)));
        CpuTime after = tracker.update(Map.of(7L, cpu(10)));
        assertThat(after.minus(before)).isEqualTo(cpu(10));
    }

    @Test
    void thisProcessHasUsedSomeCpuAndItsTotalDoesNotFall() {
        CpuTime.Tracker tracker = CpuTime.of(ProcessHandle.current().pid());
        CpuTime first = tracker.sample();
        CpuTime second = tracker.sample();
        assertThat(first.cpuNs()).isPositive();
        assertThat(second.cpuNs()).isGreaterThanOrEqualTo(first.cpuNs());
    }
}
