package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.Tiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./jvfio} launcher's decisions, with a fake {@code mvn} on PATH that logs its arguments and
 * "builds" a small module path (a fake io.jvfio.cli, an empty io.jvfio.sys and guests): when it builds, online or offline, when it makes the AOT cache, and what it
 * says. Maven itself is not run (LauncherProcessTest builds for real).
 */
@Tag(Tiers.PROCESS)
class LauncherScriptTest {
    private static final String FAKE_MVN = """
            #!/usr/bin/env bash
            echo "$*" >>"$FAKE_MVN_LOG"
            case " $* " in *" -o "*) offline=1 ;; *) offline=0 ;; esac
            if [ "$offline" = 1 ] && [ -n "${FAKE_MVN_OFFLINE_FAILS:-}" ]; then
                echo "[ERROR] Failed to execute goal on project jvfio-sys: Cannot access central in offline mode"
                exit 1
            fi
            if [ -n "${FAKE_MVN_FAILS:-}" ]; then
                echo "[ERROR] COMPILATION ERROR"
                exit 1
            fi
            mkdir -p cli/target/modules
            cp "$FAKE_MODULES"/*.jar cli/target/modules/
            """;

    /** The fake jvfio command: its arguments, and whether the launcher gave it an AOT cache. */
    private static final String MAIN = """
            package io.jvfio.cli;
            public class Jvfio {
                public static void main(String[] args) {
                    boolean aot = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
                            .stream().anyMatch(a -> a.startsWith("-XX:AOTCache="));
                    System.out.println("fake jvfio " + String.join(" ", args) + (aot ? " (aot)" : ""));
                }
            }
            """;

    private static final String TRAINING = """
            package io.jvfio.cli;
            public class AotTraining {
                public static void main(String[] args) {
                    Jvfio.main(new String[] {"--version"});
                }
            }
            """;

    /**
     * A fake io.jvfio.kvm whose GuestCodeProbe says what FAKE_PROBE asks, with the real one's exit status: 0
     * (this KVM boots Linux) or 1 (it does not); {@code crash} fails as a broken JVM would.
     */
    private static final String PROBE = """
            package io.jvfio.kvm;
            public class GuestCodeProbe {
                public static void main(String[] args) {
                    switch (System.getenv("FAKE_PROBE")) {
                        case "runs" -> System.out.println("this KVM runs int3 in its guests: a stock Linux kernel can boot");
                        case "cannot" -> {
                            System.out.println("this KVM does not run int3 in its guests (fake): a stock Linux kernel cannot boot");
                            System.exit(1);
                        }
                        default -> throw new IllegalStateException("fake probe crash");
                    }
                }
            }
            """;

    /** tools/nested's scripts: prepare.sh succeeds, run.sh says what it was asked to run inside. */
    private static final String FAKE_RUN = """
            #!/usr/bin/env bash
            echo "fake nested run.sh $*"
            """;

    @TempDir
    Path repo;

    private Path mvnLog;
    private Path modules;
    private Path jar;
    private final Map<String, String> environment = new HashMap<>();

    record Result(int exitCode, String out, String err) {}

    @BeforeEach
    void repositoryWithAFakeMaven() throws Exception {
        Path source = Path.of("..").toAbsolutePath().normalize();
        Files.createDirectories(repo.resolve("tools"));
        Files.copy(source.resolve("jvfio"), repo.resolve("jvfio"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(source.resolve("tools/java-env.sh"), repo.resolve("tools/java-env.sh"));
        for (String module : List.of("sys", "guests", "cli")) {
            Files.createDirectories(repo.resolve(module).resolve("src/main/java"));
            Files.writeString(repo.resolve(module).resolve("pom.xml"), "<project/>");
        }
        Files.writeString(repo.resolve("pom.xml"), "<project/>");
        Files.writeString(repo.resolve("sys/src/main/java/Fd.java"), "class Fd {}");
        Path bin = Files.createDirectories(repo.resolve("fake-bin"));
        Files.writeString(bin.resolve("mvn"), FAKE_MVN);
        Files.setPosixFilePermissions(bin.resolve("mvn"), PosixFilePermissions.fromString("rwxr-xr-x"));
        mvnLog = repo.resolve("mvn.log");
        Files.writeString(mvnLog, "");
        modules = Files.createDirectories(repo.resolve("fake-modules"));
        jar = modules.resolve("jvfio-cli.jar");
        Files.copy(moduleJar("module io.jvfio.sys {}"), modules.resolve("jvfio-sys.jar"));
        Files.copy(probeJar(), modules.resolve("jvfio-kvm.jar"));
        Path nested = Files.createDirectories(repo.resolve("tools/nested"));
        Files.writeString(nested.resolve("prepare.sh"), "#!/usr/bin/env bash\n");
        Files.writeString(nested.resolve("run.sh"), FAKE_RUN);
        for (String script : List.of("prepare.sh", "run.sh")) {
            Files.setPosixFilePermissions(nested.resolve(script), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.copy(fakeJar(true), jar);
        Manifest guests = manifest();
        guests.getMainAttributes().putValue("Automatic-Module-Name", "io.jvfio.guests");
        Files.copy(jar(Files.createTempDirectory(repo, "fake-guests"), guests), modules.resolve("jvfio-guests.jar"));
        environment.put("PATH", bin + ":" + System.getenv("PATH"));
        environment.put("JAVA_HOME", System.getProperty("java.home"));
        environment.put("FAKE_MVN_LOG", mvnLog.toString());
        environment.put("FAKE_MODULES", modules.toString());
    }

    @Test
    void firstRunBuildsOnlineMakesTheCacheAndRunsWithIt() throws Exception {
        Result first = launch("info", "--socket", "x");

        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(mvnCalls()).singleElement().asString().doesNotContain(" -o ").contains("package");
        assertThat(first.err()).contains("jvfio: building cli/target/modules", "jvfio: making cli/target/jvfio.aot");
        assertThat(first.out()).isEqualTo("fake jvfio info --socket x (aot)\n");
        assertThat(repo.resolve("cli/target/jvfio.built")).exists();
    }

    @Test
    void laterRunNeitherBuildsNorTrainsAndSaysNothing() throws Exception {
        launch("--version");

        Result second = launch("--version");

        assertThat(mvnCalls()).hasSize(1);
        assertThat(second.err()).isEmpty();
        assertThat(second.out()).isEqualTo("fake jvfio --version (aot)\n");
    }

    @Test
    void changedSourceBuildsOfflineOnceABuildSucceeded() throws Exception {
        launch("--version");
        touchLater(repo.resolve("sys/src/main/java/Fd.java"));

        Result rebuilt = launch("--version");

        assertThat(rebuilt.exitCode()).as(rebuilt.err()).isZero();
        assertThat(mvnCalls()).hasSize(2).last().asString().contains(" -o ");
        assertThat(rebuilt.err()).contains("jvfio: building", "jvfio: making cli/target/jvfio.aot");
    }

    @Test
    void failedOfflineBuildIsRetriedOnlineOnce() throws Exception {
        launch("--version");
        touchLater(repo.resolve("sys/src/main/java/Fd.java"));
        environment.put("FAKE_MVN_OFFLINE_FAILS", "1");

        Result rebuilt = launch("--version");

        assertThat(rebuilt.exitCode()).as(rebuilt.err()).isZero();
        List<String> calls = mvnCalls();
        assertThat(calls).hasSize(3);
        assertThat(calls.get(1)).contains(" -o ");
        assertThat(calls.get(2)).doesNotContain(" -o ");
        assertThat(rebuilt.err())
                .contains(
                        "jvfio: the offline build failed: Failed to execute goal on project jvfio-sys",
                        "jvfio: building again with Maven Central");
        assertThat(rebuilt.out()).startsWith("fake jvfio --version");
    }

    @Test
    void failedBuildExitsOneWithoutRunningAndBuildsAgainNextTime() throws Exception {
        environment.put("FAKE_MVN_FAILS", "1");

        Result failed = launch("--version");
        environment.remove("FAKE_MVN_FAILS");
        Result next = launch("--version");

        assertThat(failed.exitCode()).isEqualTo(1);
        assertThat(failed.out()).isEmpty();
        assertThat(failed.err()).contains("[ERROR] COMPILATION ERROR", "jvfio: the build failed (output above)");
        assertThat(mvnCalls()).hasSize(2).allMatch(call -> !call.contains(" -o "));
        assertThat(next.exitCode()).as(next.err()).isZero();
    }

    @Test
    void filesTheBuildDoesNotReadTriggerNoBuild() throws Exception {
        launch("--version");
        for (String file : List.of(
                "sys/.jqwik-database",
                "sys/src/test/java/FdTest.java",
                "sys/trace.jfr",
                "sys/target/classes/Fd.class",
                "bench/target/lib/x.jar",
                "hs_err_pid1.log")) {
            Files.createDirectories(repo.resolve(file).getParent());
            Files.writeString(repo.resolve(file), "");
            touchLater(repo.resolve(file));
        }

        Result run = launch("--version");

        assertThat(mvnCalls()).hasSize(1);
        assertThat(run.err()).isEmpty();
    }

    @Test
    void cacheThatCannotBeMadeIsSaidOnceAndTheCommandRunsWithoutIt() throws Exception {
        Files.copy(fakeJar(false), jar, StandardCopyOption.REPLACE_EXISTING);

        Result first = launch("--version");
        Result second = launch("--version");

        assertThat(first.err())
                .contains("jvfio: could not make the start-up cache (cli/target/jvfio.aot.log says why)");
        assertThat(first.out()).isEqualTo("fake jvfio --version\n");
        assertThat(second.err()).isEmpty();
        assertThat(repo.resolve("cli/target/jvfio.aot")).doesNotExist();
    }

    @Test
    void cacheOfAnotherJdkIsMadeAgain() throws Exception {
        launch("--version");
        Files.writeString(repo.resolve("cli/target/jvfio.aot.jdk"), "/another/jdk \"25.0.1+8\"\n");

        Result run = launch("--version");

        assertThat(mvnCalls()).hasSize(1);
        assertThat(run.err()).contains("jvfio: making cli/target/jvfio.aot");
        assertThat(run.out()).isEqualTo("fake jvfio --version (aot)\n");
    }

    @Test
    void demoLinuxWhereThisKvmCannotBootLinuxRunsInTheNestedGuestSayingWhyInOneLine() throws Exception {
        Tiers.assumeKvm();
        launch("--version");
        environment.put("FAKE_PROBE", "cannot");

        Result demo = launch("demo", "--linux");

        assertThat(demo.exitCode()).as(demo.err()).isZero();
        assertThat(demo.err().lines().toList())
                .containsExactly("this KVM does not run int3 in its guests (fake): a stock Linux kernel cannot boot:"
                        + " running the demo inside a nested QEMU guest whose KVM can boot it (tools/nested;"
                        + " JVFIO_NESTED=off skips)");
        assertThat(demo.out())
                .isEqualTo("fake nested run.sh --overlay " + repo + " -- " + repo.resolve("jvfio") + " demo --linux\n");
    }

    @Test
    void demoLinuxWhereThisKvmCannotBootLinuxAndNestingIsOffFailsInOneLine() throws Exception {
        Tiers.assumeKvm();
        launch("--version");
        environment.put("FAKE_PROBE", "cannot");
        environment.put("JVFIO_NESTED", "off");

        Result demo = launch("demo", "--linux");

        assertThat(demo.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(demo.err().lines().toList())
                .containsExactly("this KVM does not run int3 in its guests (fake): a stock Linux kernel cannot boot"
                        + " (JVFIO_NESTED=off: no nested guest)");
        assertThat(demo.out()).isEmpty();
    }

    @Test
    void demoLinuxWhereThisKvmBootsLinuxRunsHere() throws Exception {
        Tiers.assumeKvm();
        launch("--version");
        environment.put("FAKE_PROBE", "runs");

        Result demo = launch("demo", "--linux");

        assertThat(demo.exitCode()).as(demo.err()).isZero();
        assertThat(demo.err()).isEmpty();
        assertThat(demo.out()).isEqualTo("fake jvfio demo --linux (aot)\n");
    }

    @Test
    void demoWithoutLinuxAsksNoProbeAndRunsHereWhereKvmIs() throws Exception {
        Tiers.assumeKvm();
        launch("--version");
        environment.put("FAKE_PROBE", "cannot");

        Result demo = launch("demo", "-n", "5");

        assertThat(demo.exitCode()).as(demo.err()).isZero();
        assertThat(demo.out()).isEqualTo("fake jvfio demo -n 5 (aot)\n");
    }

    @Test
    void probeThatFailsIsSaidAndNothingRuns() throws Exception {
        Tiers.assumeKvm();
        launch("--version");
        environment.put("FAKE_PROBE", "crash");

        Result demo = launch("demo", "--linux");

        assertThat(demo.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(demo.err())
                .startsWith("jvfio: the probe of /dev/kvm failed: ")
                .contains("fake probe crash");
        assertThat(demo.out()).isEmpty();
    }

    private Result launch(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(repo.resolve("jvfio").toString()));
        command.addAll(List.of(args));
        LauncherProcessTest.Result result = LauncherProcessTest.run(repo, environment, command.toArray(String[]::new));
        return new Result(result.exitCode(), result.out(), result.err());
    }

    private List<String> mvnCalls() throws IOException {
        return Files.readAllLines(mvnLog).stream().map(line -> " " + line + " ").toList();
    }

    /** A modification a second after the last build, so that file systems with coarse times see it. */
    private static void touchLater(Path file) throws IOException {
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(2)));
    }

    /**
     * Module io.jvfio.cli whose Jvfio prints what it was asked; with {@code training}, an AotTraining that
     * runs it.
     */
    private Path fakeJar(boolean training) throws IOException {
        Path sources = Files.createTempDirectory(repo, "fake-src");
        Files.createDirectories(sources.resolve("io/jvfio/cli"));
        Files.writeString(
                sources.resolve("module-info.java"),
                "module io.jvfio.cli { requires io.jvfio.sys; requires java.management; }");
        Files.writeString(sources.resolve("io/jvfio/cli/Jvfio.java"), MAIN);
        List<String> files = new ArrayList<>(List.of(
                sources.resolve("module-info.java").toString(),
                sources.resolve("io/jvfio/cli/Jvfio.java").toString()));
        if (training) {
            Files.writeString(sources.resolve("io/jvfio/cli/AotTraining.java"), TRAINING);
            files.add(sources.resolve("io/jvfio/cli/AotTraining.java").toString());
        }
        return jar(compile(files), manifest());
    }

    /** Module io.jvfio.kvm with the fake {@link #PROBE}. */
    private Path probeJar() throws IOException {
        Path sources = Files.createTempDirectory(repo, "fake-src");
        Files.createDirectories(sources.resolve("io/jvfio/kvm"));
        Files.writeString(sources.resolve("module-info.java"), "module io.jvfio.kvm { requires io.jvfio.sys; }");
        Files.writeString(sources.resolve("io/jvfio/kvm/GuestCodeProbe.java"), PROBE);
        return jar(
                compile(List.of(
                        sources.resolve("module-info.java").toString(),
                        sources.resolve("io/jvfio/kvm/GuestCodeProbe.java").toString())),
                manifest());
    }

    /** A module of nothing but {@code descriptor}. */
    private Path moduleJar(String descriptor) throws IOException {
        Path sources = Files.createTempDirectory(repo, "fake-src");
        Files.writeString(sources.resolve("module-info.java"), descriptor);
        return jar(compile(List.of(sources.resolve("module-info.java").toString())), manifest());
    }

    private Path compile(List<String> files) throws IOException {
        Path classes = Files.createTempDirectory(repo, "fake-classes");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> arguments =
                new ArrayList<>(List.of("-d", classes.toString(), "--module-path", modules.toString()));
        arguments.addAll(files);
        assertThat(javac.run(null, null, null, arguments.toArray(String[]::new)))
                .isZero();
        return classes;
    }

    private static Manifest manifest() {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        return manifest;
    }

    private Path jar(Path classes, Manifest manifest) throws IOException {
        Path built = Files.createTempFile(repo, "fake", ".jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(built), manifest);
                var walk = Files.walk(classes)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(file).toString()));
                out.write(Files.readAllBytes(file));
                out.closeEntry();
            }
        }
        return built;
    }
}
