package io.jvfio.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The per-round results of one side of a benchmark, and their median. Every figure is a time or a
 * throughput, so a positive finite number: anything else (a NaN from 0/0, an infinity from a zero time)
 * is a broken round and is refused rather than sorted among the others, where it would move the median.
 */
final class Rounds {
    private final List<Double> values = new ArrayList<>();

    /** Rounds of these figures, each checked as {@link #add} checks it. */
    static Rounds of(double... figures) {
        Rounds rounds = new Rounds();
        for (double figure : figures) {
            rounds.add(figure);
        }
        return rounds;
    }

    void add(double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("a round's figure must be a positive finite number, not " + value);
        }
        values.add(value);
    }

    /** How many rounds were added. */
    int count() {
        return values.size();
    }

    /** The median (the mean of the middle two for an even count). */
    double median() {
        double[] sorted = sorted();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    double min() {
        return sorted()[0];
    }

    double max() {
        double[] sorted = sorted();
        return sorted[sorted.length - 1];
    }

    private double[] sorted() {
        if (values.isEmpty()) {
            throw new IllegalStateException("no rounds");
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return sorted;
    }
}
