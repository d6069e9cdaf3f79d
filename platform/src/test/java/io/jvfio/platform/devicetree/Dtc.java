package io.jvfio.platform.devicetree;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs the device-tree compiler (Debian's device-tree-compiler) as a child process, for interop tests. */
final class Dtc {
    static final Path DTC = Path.of("/usr/bin/dtc");

    record Result(int exitCode, byte[] stdout, String stderr) {
        String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    private Dtc() {}

    /** Skips the calling test, loudly, when dtc is not installed. */
    static void assumeInstalled() {
        boolean present = Files.isExecutable(DTC);
        if (!present) {
            System.err.println("SKIPPED (dtc interop): " + DTC + " is missing; install Debian's device-tree-compiler");
        }
        Assumptions.assumeTrue(present, DTC + " is missing; install device-tree-compiler");
    }

    /** Runs {@code dtc args...} with {@code input} on stdin. */
    static Result run(byte[] input, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(DTC.toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        CompletableFuture<byte[]> stdout = CompletableFuture.supplyAsync(() -> readAll(process, true));
        CompletableFuture<byte[]> stderr = CompletableFuture.supplyAsync(() -> readAll(process, false));
        try (var in = process.getOutputStream()) {
            in.write(input);
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("dtc did not finish in 30 s: " + command);
        }
        return new Result(process.exitValue(), stdout.join(), new String(stderr.join(), StandardCharsets.UTF_8));
    }

    /** {@code dtc -I dtb -O dts} of {@code dtb}, failing on a non-zero exit. */
    static Result dtbToDts(byte[] dtb) throws IOException, InterruptedException {
        Result result = run(dtb, "-I", "dtb", "-O", "dts", "-");
        if (result.exitCode() != 0) {
            throw new AssertionError("dtc -I dtb -O dts failed (" + result.exitCode() + "): " + result.stderr());
        }
        return result;
    }

    /** {@code dtc -I dts -O dtb} of {@code dts}, failing on a non-zero exit. */
    static Result dtsToDtb(String dts) throws IOException, InterruptedException {
        Result result = run(dts.getBytes(StandardCharsets.UTF_8), "-I", "dts", "-O", "dtb", "-");
        if (result.exitCode() != 0) {
            throw new AssertionError("dtc -I dts -O dtb failed (" + result.exitCode() + "): " + result.stderr());
        }
        return result;
    }

    private static byte[] readAll(Process process, boolean stdout) {
        try (var in = stdout ? process.getInputStream() : process.getErrorStream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
