package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

class InterleavedTest {
    private final List<String> calls = new ArrayList<>();

    /** A side that records its name and returns {@code figures} in turn. */
    private Interleaved.Side side(String name, double... figures) {
        AtomicInteger next = new AtomicInteger();
        return () -> {
            calls.add(name);
            return figures[next.getAndIncrement() % figures.length];
        };
    }

    private static final LongSupplier NO_JIT = () -> 0;

    @Test
    void roundsAlternateWhoGoesFirstWithJavaRawBetween() throws Exception {
        Interleaved.run(3, "exit", side("C", 1), side("jvfio", 2), side("raw", 3), NO_JIT);
        assertThat(calls).containsExactly("C", "raw", "jvfio", "jvfio", "raw", "C", "C", "raw", "jvfio");
    }

    @Test
    void eachSidesFiguresLandInItsOwnRoundsWhoeverWentFirst() throws Exception {
        Interleaved.Result result = Interleaved.run(
                4, "exit", side("C", 100, 110, 120, 130), side("jvfio", 200, 210, 220, 230), side("raw", 150), NO_JIT);
        assertThat(result.c().median()).isEqualTo(115);
        assertThat(result.jvfio().median()).isEqualTo(215);
        assertThat(result.raw().median()).isEqualTo(150);
        assertThat(result.c().count()).isEqualTo(4);
        assertThat(result.jvfio().min() / result.c().min()).isEqualTo(2);
    }

    @Test
    void aFailedRoundEndsTheRunRatherThanBeingLeftOut() {
        Interleaved.Side failsSecondTime = new Interleaved.Side() {
            int runs;

            @Override
            public double run() throws Exception {
                if (++runs == 2) {
                    throw new IOException("the guest exited with 3");
                }
                return 5;
            }
        };
        assertThatThrownBy(() -> Interleaved.run(3, "exit", side("C", 1), failsSecondTime, side("raw", 1), NO_JIT))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("exited with 3");
    }

    @Test
    void warmUpStopsAfterTheMinimumWhenTheJitIsQuiet() throws Exception {
        Interleaved.warmUp("jvfio", 3, "test", sleeping(), NO_JIT);
        assertThat(calls).hasSize(3);
    }

    @Test
    void warmUpGoesOnToFourTimesTheMinimumWhileTheJitIsBusy() throws Exception {
        AtomicLong compiled = new AtomicLong();
        // every reading finds a second more of compilation: far over 2% of any round
        Interleaved.warmUp("jvfio", 3, "test", sleeping(), () -> compiled.addAndGet(1000));
        assertThat(calls).hasSize(12);
    }

    @Test
    void warmUpStopsAtTheFirstQuietRoundAfterTheMinimum() throws Exception {
        AtomicInteger readings = new AtomicInteger();
        AtomicLong compiled = new AtomicLong();
        // busy during the first five rounds (two readings a round), quiet after
        LongSupplier jit = () -> readings.incrementAndGet() <= 10 ? compiled.addAndGet(1000) : compiled.get();
        Interleaved.warmUp("jvfio", 3, "test", sleeping(), jit);
        assertThat(calls).hasSize(6);
    }

    /** A side whose round takes some milliseconds, against which the JIT's share is judged. */
    private Interleaved.Side sleeping() {
        return () -> {
            calls.add("round");
            Thread.sleep(20);
            return 1;
        };
    }
}
