package io.jvfio.bench;

import java.util.Locale;
import java.util.function.LongSupplier;
import java.util.stream.LongStream;

/**
 * The method shared by the benchmarks that time guests: a JIT-quiet warm-up of jvfio's side, then
 * rounds that alternate the C baseline and jvfio, the side going first switching each round, so drift in
 * the machine's load hits both alike.
 */
final class Interleaved {
    private Interleaved() {}

    /** One timed run of one side; returns its figure (ns per unit of work). */
    @FunctionalInterface
    interface Side {
        double run() throws Exception;
    }

    /** One timed run of one side over {@code units} units of work; returns ns per unit. */
    @FunctionalInterface
    interface Sized {
        double run(long units) throws Exception;
    }

    /** The per-round figures of both sides and of the diagnostic side. */
    record Result(Rounds c, Rounds jvfio, Rounds raw) {}

    /**
     * A whole comparison: one discarded run of C, {@link #warmUp} of jvfio and of java raw, then {@link #run}
     * rounds of {@code units} each; prints the spread and java raw's standing and returns the rounds, for
     * the benchmark to print its result line from the medians.
     *
     * @param childJvms the device servers' JVMs, whose JIT counts with this JVM's: their compiler threads
     *     share the CPUs with both sides' loops
     */
    static Result compare(
            String unit,
            int rounds,
            int warmupRounds,
            long units,
            long warmupUnits,
            Sized c,
            Sized jvfio,
            Sized raw,
            long... childJvms)
            throws Exception {
        long[] jvms = LongStream.concat(LongStream.of(ProcessHandle.current().pid()), LongStream.of(childJvms))
                .toArray();
        CpuTime.Tracker compilers = CpuTime.compilers(jvms);
        LongSupplier jit = () -> compilers.sample().cpuNs() / 1_000_000;
        long start = System.nanoTime();
        double cWarm = c.run(warmupUnits);
        System.out.printf(
                Locale.ROOT,
                "warm-up C (%d %ss, discarded): %.0f ns per %s, %.1f s%n",
                warmupUnits,
                unit,
                cWarm,
                unit,
                (System.nanoTime() - start) / 1e9);
        String what = warmupUnits + " " + unit + "s";
        warmUp("jvfio", warmupRounds, what, () -> jvfio.run(warmupUnits), jit);
        warmUp("java raw", warmupRounds, what, () -> raw.run(warmupUnits), jit);
        Result result = run(rounds, unit, () -> c.run(units), () -> jvfio.run(units), () -> raw.run(units), jit);
        System.out.printf(
                Locale.ROOT,
                "medians of %d rounds of %d %ss; C %.0f-%.0f ns, jvfio %.0f-%.0f ns; best-of-%d ratio %.2f"
                        + " (diagnostic)%n",
                rounds,
                units,
                unit,
                result.c().min(),
                result.c().max(),
                result.jvfio().min(),
                result.jvfio().max(),
                rounds,
                result.jvfio().min() / result.c().min());
        System.out.printf(
                Locale.ROOT,
                "java raw (diagnostic): %.0f ns per %s, %.2f of C; jvfio is %.2f of it%n",
                result.raw().median(),
                unit,
                result.raw().median() / result.c().median(),
                result.jvfio().median() / result.raw().median());
        return result;
    }

    /**
     * Runs one side at least {@code minRounds} times and then until the JIT compilers of all the run's JVMs
     * used under 2% of a round's time in CPU (at most four times as many rounds): under nested TCG they
     * take minutes and compete with the vCPU thread for the guest's two CPUs. Each round's new machine
     * keeps them from reaching zero. Prints each round as discarded.
     */
    static void warmUp(String side, int minRounds, String what, Side run, LongSupplier jit) throws Exception {
        for (int i = 0; i < 4 * minRounds; i++) {
            long start = System.nanoTime();
            Run round = Run.of(run, jit);
            long roundMillis = (System.nanoTime() - start) / 1_000_000;
            System.out.printf(
                    Locale.ROOT,
                    "warm-up %s %d (%s, discarded): %.0f ns per unit, %.1f s, JIT CPU %d ms%n",
                    side,
                    i,
                    what,
                    round.figure(),
                    roundMillis / 1e3,
                    round.jitMillis());
            if (i + 1 >= minRounds && round.jitMillis() * 50 < roundMillis) {
                return;
            }
        }
    }

    /**
     * {@code rounds} rounds of both sides, C first in even rounds, with {@code raw} (a diagnostic, not part
     * of the result) between the two in every round, so it sits in the same machine state as both; prints
     * each round's figures and ratio, and how much CPU the JVMs' JIT compilers used during C's, jvfio's and
     * java raw's runs (their setup included): compiler threads take CPU from the loop beside them (on a
     * host of two CPUs, one of the loop's own), so a round with much of it was disturbed.
     */
    static Result run(int rounds, String unit, Side c, Side jvfio, Side raw, LongSupplier jit) throws Exception {
        Rounds cRounds = new Rounds();
        Rounds jRounds = new Rounds();
        Rounds rawRounds = new Rounds();
        for (int round = 0; round < rounds; round++) {
            Side first = round % 2 == 0 ? c : jvfio;
            Side last = round % 2 == 0 ? jvfio : c;
            Run firstRun = Run.of(first, jit);
            Run rawRun = Run.of(raw, jit);
            Run lastRun = Run.of(last, jit);
            Run cRun = round % 2 == 0 ? firstRun : lastRun;
            Run jRun = round % 2 == 0 ? lastRun : firstRun;
            cRounds.add(cRun.figure());
            jRounds.add(jRun.figure());
            rawRounds.add(rawRun.figure());
            System.out.printf(
                    Locale.ROOT,
                    "round %d (%s first): C %.0f ns, jvfio %.0f ns per %s, ratio %.3f; java raw %.0f ns,"
                            + " %.3f of C; JIT CPU %d ms during C's run, %d ms during jvfio's, %d ms during java"
                            + " raw's%n",
                    round,
                    round % 2 == 0 ? "C" : "jvfio",
                    cRun.figure(),
                    jRun.figure(),
                    unit,
                    jRun.figure() / cRun.figure(),
                    rawRun.figure(),
                    rawRun.figure() / cRun.figure(),
                    cRun.jitMillis(),
                    jRun.jitMillis(),
                    rawRun.jitMillis());
        }
        return new Result(cRounds, jRounds, rawRounds);
    }

    /** One side's figure and the CPU the JVMs' JIT compilers used while it ran. */
    private record Run(double figure, long jitMillis) {
        static Run of(Side side, LongSupplier jit) throws Exception {
            long compiling = jit.getAsLong();
            double figure = side.run();
            return new Run(figure, jit.getAsLong() - compiling);
        }
    }
}
