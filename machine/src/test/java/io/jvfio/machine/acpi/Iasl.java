package io.jvfio.machine.acpi;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs ACPICA's compiler/disassembler (Debian's acpica-tools) as a child process, for interop tests, and
 * reduces its output to the lines that carry meaning.
 */
final class Iasl {
    static final Path IASL = Path.of("/usr/bin/iasl");

    record Result(int exitCode, String output, String dsl) {}

    private Iasl() {}

    /** Skips the calling test, loudly, when iasl is not installed. */
    static void assumeInstalled() {
        boolean present = Files.isExecutable(IASL);
        if (!present) {
            System.err.println("SKIPPED (iasl interop): " + IASL + " is missing; install Debian's acpica-tools");
        }
        Assumptions.assumeTrue(present, IASL + " is missing; install acpica-tools");
    }

    /** {@code iasl -d} of one table; the disassembly is {@link Result#dsl}. */
    static Result disassemble(byte[] table) throws IOException, InterruptedException {
        return inTemporaryDirectory(dir -> {
            Files.write(dir.resolve("table.dat"), table);
            return run(dir, "table.dsl", "-d", "table.dat");
        });
    }

    /** {@code iasl} compiling {@code dsl} back to AML; its messages are {@link Result#output}. */
    static Result compile(String dsl) throws IOException, InterruptedException {
        return inTemporaryDirectory(dir -> {
            Files.writeString(dir.resolve("table.dsl"), dsl);
            return run(dir, null, "table.dsl");
        });
    }

    /**
     * The disassembly without comments, offsets and blank lines, whitespace collapsed: {@code
     * Name (_HID, EisaId ("PNP0501"))}, {@code Subtable Type : 00 [Processor Local APIC]}.
     */
    static List<String> meaningfulLines(String dsl) {
        return Arrays.stream(dsl.split("\n"))
                .map(line -> line.replaceAll("\\s*/\\*.*?\\*/\\s*", ""))
                .map(line -> line.replaceAll("\\s*//.*", ""))
                .map(line -> line.replaceFirst("^\\[[0-9A-Fa-fh ]+\\]", ""))
                .map(line -> line.replaceAll("\\s+", " ").strip())
                .filter(line -> !line.isEmpty() && !line.startsWith("*") && !line.startsWith("/*"))
                .toList();
    }

    private interface InDirectory {
        Result run(Path dir) throws IOException, InterruptedException;
    }

    private static Result inTemporaryDirectory(InDirectory action) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jvfio-iasl");
        try {
            return action.run(dir);
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Result run(Path dir, String dslName, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(IASL.toString());
        command.addAll(List.of(args));
        Path messages = dir.resolve("iasl.out");
        // Files on every stream, no pipes: the JDK closes its end of a pipe to the child only when its
        // reaper thread sees the child exit, so a pipe could outlive this call.
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(messages.toFile())
                .start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("iasl did not finish in 30 s: " + command);
        }
        Path dsl = dslName == null ? null : dir.resolve(dslName);
        String disassembly = dsl != null && Files.exists(dsl) ? Files.readString(dsl) : "";
        return new Result(process.exitValue(), Files.readString(messages), disassembly);
    }
}
