package io.jvfio.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The per-round results of one side of a benchmark, and their median. */
final class Rounds {
    private final List<Double> values = new ArrayList<>();

    void add(double value) {
        values.add(value);
    }

    /** The median (the mean of the middle two for an even count). */
    double median() {
        if (values.isEmpty()) {
            throw new IllegalStateException("no rounds");
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    double min() {
        return values.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    double max() {
        return values.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }
}
