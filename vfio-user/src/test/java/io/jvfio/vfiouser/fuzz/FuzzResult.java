package io.jvfio.vfiouser.fuzz;

import java.util.HexFormat;

/**
 * What a fuzzing run found: how many inputs it tried, how many of them the target accepted as valid
 * (to show the mutations reach past the first checks), how many crashed the target, and the first
 * crashing input (hex) with what it did, to turn into a regression test.
 */
public record FuzzResult(
        String target,
        long seed,
        long inputs,
        long accepted,
        long crashes,
        String firstCrashHex,
        String firstCrashCause,
        long nanos) {
    static FuzzResult of(
            String target,
            long seed,
            long inputs,
            long accepted,
            long crashes,
            byte[] firstCrash,
            String cause,
            long nanos) {
        return new FuzzResult(
                target,
                seed,
                inputs,
                accepted,
                crashes,
                firstCrash == null ? null : HexFormat.of().formatHex(firstCrash),
                cause,
                nanos);
    }

    /** Inputs per second of the run. */
    public double inputsPerSecond() {
        return nanos == 0 ? 0 : inputs * 1e9 / nanos;
    }

    /** Adds another run's counts (for a line over several targets). */
    public FuzzResult plus(FuzzResult other) {
        return new FuzzResult(
                target + "+" + other.target,
                seed,
                inputs + other.inputs,
                accepted + other.accepted,
                crashes + other.crashes,
                firstCrashHex != null ? firstCrashHex : other.firstCrashHex,
                firstCrashCause != null ? firstCrashCause : other.firstCrashCause,
                nanos + other.nanos);
    }

    @Override
    public String toString() {
        return String.format(
                "%s: seed=%d inputs=%d accepted=%d crashes=%d in %.1f s (%.0f inputs/s)%s",
                target,
                seed,
                inputs,
                accepted,
                crashes,
                nanos / 1e9,
                inputsPerSecond(),
                firstCrashCause == null
                        ? ""
                        : "; first crash: " + firstCrashCause
                                + (firstCrashHex == null ? "" : " on input " + firstCrashHex));
    }
}
