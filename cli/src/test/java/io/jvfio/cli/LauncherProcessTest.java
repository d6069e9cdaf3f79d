package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jvfio.sys.testing.Tiers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./jvfio} launcher on a fresh copy of the repository (the files git would clone, including
 * not yet committed ones, without any build output): the first command builds the jar, and stdout holds
 * only the command's output.
 */
@Tag(Tiers.PROCESS)
class LauncherProcessTest {
    @TempDir
    static Path clone;

    private static Result firstHelp;

    record Result(int exitCode, String out, String err) {}

    @BeforeAll
    static void freshCopyOfTheRepository() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        assumeTrue(
                Files.exists(repo.resolve(".git")) && Files.isRegularFile(repo.resolve("jvfio")),
                "not run from a git checkout of jvfio");
        Result files = run(repo, Map.of(), "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard");
        assertThat(files.exitCode()).as(files.err()).isZero();
        for (String file : files.out().split("\0")) {
            Path source = repo.resolve(file);
            if (file.isEmpty() || !Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            Path target = clone.resolve(file);
            Files.createDirectories(target.getParent());
            Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
        assertThat(clone.resolve("cli/target")).doesNotExist();
        firstHelp = run(clone, Map.of(), "./jvfio", "--help");
    }

    @Test
    void firstCommandBuildsTheModulesAndPrintsOnlyItsOwnOutput() {
        assertThat(firstHelp.exitCode()).as(firstHelp.err()).isZero();
        assertThat(firstHelp.out()).startsWith("Usage: jvfio").contains("Exit codes:", "demo", "serve");
        assertThat(firstHelp.err()).contains("building cli/target/modules");
        assertThat(clone.resolve("cli/target/modules/jvfio-cli.jar")).isRegularFile();
    }

    @Test
    void secondCommandDoesNotRebuild() throws Exception {
        Result version = run(clone, Map.of(), "./jvfio", "--version");

        assertThat(version.exitCode()).as(version.err()).isZero();
        assertThat(version.out().strip()).isEqualTo("jvfio 0.1.0-SNAPSHOT");
        assertThat(version.err()).doesNotContain("building");
    }

    @Test
    void usageErrorExitsTwo() throws Exception {
        Result bogus = run(clone, Map.of(), "./jvfio", "no-such-command");

        assertThat(bogus.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(bogus.err().lines().toList()).singleElement().asString().contains("no-such-command");
    }

    @Test
    void demoWithoutKvmAndWithoutNestingSaysSoInOneLine() throws Exception {
        assumeTrue(!Files.exists(Path.of("/dev/kvm")), "this machine has /dev/kvm");

        Result demo = run(clone, Map.of("JVFIO_NESTED", "off"), "./jvfio", "demo");

        assertThat(demo.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(demo.err().lines().toList()).containsExactly("no /dev/kvm: the demo needs KVM");
        assertThat(demo.out()).isEmpty();
    }

    static Result run(Path directory, Map<String, String> environment, String... command)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(List.of(command)).directory(directory.toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return process.getErrorStream().readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        });
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(15, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish within 15 minutes");
        }
        return new Result(
                process.exitValue(),
                new String(out, StandardCharsets.UTF_8),
                new String(err.join(), StandardCharsets.UTF_8));
    }
}
