package io.jvfio.guests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The guest images in the jar, and the build's check for instructions the KVM emulator cannot run. */
class GuestImagesTest {
    private static final long IMAGE_BASE = 0x100000L;
    private static final int ET_EXEC = 2;
    private static final int EM_X86_64 = 62;
    private static final int PT_LOAD = 1;

    private static final Path CHECKER =
            Path.of(System.getProperty("basedir", ".")).resolve("check-insns.sh");

    @ParameterizedTest
    @ValueSource(strings = {"hello", "mmio", "irq", "subregion", "spin", "mmio-loop", "testdev", "stray"})
    void imageIsElf64X86ExecutableLoadedAtOneMiB(String name) throws IOException {
        ByteBuffer elf = ByteBuffer.wrap(image(name)).order(ByteOrder.LITTLE_ENDIAN);

        assertThat(elf.getInt(0)).as("ELF magic").isEqualTo(0x464c457f);
        assertThat(elf.get(4)).as("EI_CLASS (ELFCLASS64)").isEqualTo((byte) 2);
        assertThat(elf.get(5)).as("EI_DATA (little-endian)").isEqualTo((byte) 1);
        assertThat(elf.getShort(16)).as("e_type").isEqualTo((short) ET_EXEC);
        assertThat(elf.getShort(18)).as("e_machine").isEqualTo((short) EM_X86_64);
        assertThat(elf.getLong(24)).as("e_entry").isGreaterThanOrEqualTo(IMAGE_BASE);

        long phoff = elf.getLong(32);
        int phentsize = Short.toUnsignedInt(elf.getShort(54));
        int phnum = Short.toUnsignedInt(elf.getShort(56));
        int loads = 0;
        for (int i = 0; i < phnum; i++) {
            int ph = Math.toIntExact(phoff + (long) i * phentsize);
            if (elf.getInt(ph) == PT_LOAD) {
                loads++;
                assertThat(elf.getLong(ph + 24)).as("p_paddr of segment %d", i).isGreaterThanOrEqualTo(IMAGE_BASE);
            }
        }
        assertThat(loads).as("PT_LOAD segments").isPositive();
    }

    @Test
    void checkerAcceptsBuiltImage(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("irq.elf");
        Files.write(image, image("irq"));

        Result result = run(dir, "bash", CHECKER.toString(), image.toString());

        assertThat(result.exitCode()).as(result.output()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "popcnt | -mpopcnt | unsigned long f(unsigned long x) { return __builtin_popcountll(x); }",
                "int3   | -O2      | void f(void) { __asm__ volatile(\"int3\"); }",
                "xmm    | -msse2   | double f(double a, double b) { return a * b; }",
            })
    void checkerRejectsForbiddenInstruction(String instruction, String flag, String source, @TempDir Path dir)
            throws Exception {
        Path c = dir.resolve("bad.c");
        Path object = dir.resolve("bad.o");
        Files.writeString(c, source + "\n");
        Result compiled = run(dir, "gcc", "-O2", flag, "-c", "-o", object.toString(), c.toString());
        assertThat(compiled.exitCode()).as(compiled.output()).isZero();

        Result result = run(dir, "bash", CHECKER.toString(), object.toString());

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).contains(object.toString()).contains(instruction);
    }

    private static byte[] image(String name) throws IOException {
        try (InputStream in = GuestImagesTest.class.getResourceAsStream("/guests/" + name + ".elf")) {
            assertThat(in).as("resource /guests/%s.elf", name).isNotNull();
            return in.readAllBytes();
        }
    }

    private record Result(int exitCode, String output) {}

    private static Result run(Path dir, String... command) throws Exception {
        Process process = new ProcessBuilder(List.of(command))
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS))
                .as("%s finished", command[0])
                .isTrue();
        return new Result(process.exitValue(), output);
    }
}
