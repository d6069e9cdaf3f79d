package io.jvfio.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs a C baseline program once and takes its "N ns per ..." figures from its output. */
final class Baseline {
    /** Whatever word stands before "ns per"; {@link #figure} says whether it is a number. */
    private static final Pattern NS_PER = Pattern.compile("(\\S+) ns per ");

    private static final Pattern PLAIN_NUMBER = Pattern.compile("[0-9]+(?:\\.[0-9]+)?");
    /** Far beyond any round's length; under nested emulation a guest has been seen to hang for good. */
    private static final long LIMIT_MINUTES = 10;

    private Baseline() {}

    /** Runs {@code command}; returns its first ns-per figure, or throws with its output if it failed. */
    static double run(List<String> command) throws IOException, InterruptedException {
        return runAll(command)[0];
    }

    /**
     * Runs {@code command}; returns every ns-per figure in order (see {@link #figures}), or throws with its
     * output if it failed.
     */
    static double[] runAll(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(new ArrayList<>(command))
                .redirectErrorStream(true)
                .start();
        try {
            process.getOutputStream().close();
            CompletableFuture<String> collected = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                        } catch (IOException e) {
                            return "(its output could not be read: " + e.getMessage() + ")";
                        }
                    },
                    Thread::startVirtualThread);
            if (!process.waitFor(LIMIT_MINUTES, TimeUnit.MINUTES)) {
                throw new IOException(String.join(" ", command) + " did not finish within " + LIMIT_MINUTES
                        + " minutes and was killed");
            }
            int status = process.exitValue();
            String output;
            try {
                output = collected.get(1, TimeUnit.MINUTES);
            } catch (ExecutionException | TimeoutException e) {
                throw new IOException(String.join(" ", command) + ": its output could not be collected", e);
            }
            return figures(String.join(" ", command), status, output);
        } finally {
            ProcessTree.destroy(process);
        }
    }

    /**
     * The ns-per figures of a finished baseline, {@code command} having exited with {@code status} and
     * printed {@code output}: each word before "ns per", in order, NaN for one that is not a plain
     * non-negative decimal (pingpong prints a CPU figure below zero when /proc could not be read), so a
     * figure is never read from part of a word ("-5" as 5, "1e3" as 3). The first figure is the result:
     * it must be a positive number, and the program must have exited 0.
     */
    static double[] figures(String command, int status, String output) throws IOException {
        List<Double> figures = new ArrayList<>();
        Matcher m = NS_PER.matcher(output);
        while (m.find()) {
            figures.add(figure(m.group(1)));
        }
        if (status != 0 || figures.isEmpty() || !(figures.getFirst() > 0)) {
            throw new IOException(command + " failed (exit " + status + "):\n" + output.strip());
        }
        return figures.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double figure(String word) {
        return PLAIN_NUMBER.matcher(word).matches() ? Double.parseDouble(word) : Double.NaN;
    }
}
