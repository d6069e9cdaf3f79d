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
    private static final Pattern NS_PER = Pattern.compile("([0-9]+(?:\\.[0-9]+)?) ns per ");
    /** Far beyond any round's length; under nested emulation a guest has been seen to hang for good. */
    private static final long LIMIT_MINUTES = 10;

    private Baseline() {}

    /** Runs {@code command}; returns its first ns-per figure, or throws with its output if it failed. */
    static double run(List<String> command) throws IOException, InterruptedException {
        return runAll(command)[0];
    }

    /** Runs {@code command}; returns every ns-per figure in order, or throws with its output if it failed. */
    static double[] runAll(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(new ArrayList<>(command))
                .redirectErrorStream(true)
                .start();
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
            process.destroyForcibly().waitFor();
            throw new IOException(
                    String.join(" ", command) + " did not finish within " + LIMIT_MINUTES + " minutes and was killed");
        }
        int status = process.exitValue();
        String output;
        try {
            output = collected.get(1, TimeUnit.MINUTES);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException(String.join(" ", command) + ": its output could not be collected", e);
        }
        Matcher m = NS_PER.matcher(output);
        if (status != 0 || !m.find()) {
            throw new IOException(String.join(" ", command) + " failed (exit " + status + "):\n" + output.strip());
        }
        List<Double> figures = new ArrayList<>();
        do {
            figures.add(Double.parseDouble(m.group(1)));
        } while (m.find());
        return figures.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
