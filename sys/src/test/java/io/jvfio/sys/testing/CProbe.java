package io.jvfio.sys.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Compiles a C program with the machine's gcc and reads the {@code name value} lines it prints: how
 * ABI tests compare Java's layouts and ioctl numbers with the real headers.
 */
public final class CProbe {
    private CProbe() {}

    /**
     * Compiles {@code source} (which prints lines {@code NAME VALUE} with VALUE in decimal) and returns
     * the values by name, in print order.
     */
    public static Map<String, Long> run(String source) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jvfio-cprobe");
        try {
            Path c = dir.resolve("probe.c");
            Path exe = dir.resolve("probe");
            Files.writeString(c, source);
            String compilerOutput = exec(dir, "gcc", "-O0", "-o", exe.toString(), c.toString());
            if (!Files.exists(exe)) {
                throw new IllegalStateException("gcc failed on the probe:\n" + compilerOutput);
            }
            String output = exec(dir, exe.toString());
            Map<String, Long> values = new LinkedHashMap<>();
            for (String line : output.split("\n")) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length == 2) {
                    values.put(fields[0], Long.parseUnsignedLong(fields[1]));
                }
            }
            return values;
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String exec(Path dir, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " timed out");
        }
        return new String(output, StandardCharsets.UTF_8);
    }
}
