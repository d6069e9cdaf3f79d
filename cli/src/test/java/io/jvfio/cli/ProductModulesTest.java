package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.cli.outside.NativeAccessProbe;
import io.jvfio.sys.testing.Tiers;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * jvfio started as ./jvfio starts it, on the module path with native access for io.jvfio.sys alone, and with
 * --illegal-native-access=deny, which ./jvfio leaves out for the sake of its AOT cache (the launcher says
 * why): every jvfio module is a named module, only io.jvfio.sys may call native code, a whole guest run
 * needs nothing more, the JVM refuses a restricted call from anywhere else, and System.Logger messages
 * take jvfio's one-line format.
 */
@Tag(Tiers.PROCESS)
class ProductModulesTest {
    private static final List<String> MODULES =
            List.of("sys", "vfio", "chips", "vfio-user", "devices", "vfio-kernel", "kvm", "machine", "platform", "cli");
    private static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();

    private record Exit(int code, List<String> out, String err) {}

    @Test
    @Timeout(180)
    void onlyIoJvfioSysHasNativeAccessAndARestrictedCallFromElsewhereIsRefused() throws Exception {
        Exit probe = java(testClasses(), "--add-modules", "ALL-MODULE-PATH", NativeAccessProbe.class.getName());

        assertThat(probe.code()).as(probe.err()).isZero();
        assertThat(probe.out())
                .containsSubsequence(
                        "module io.jvfio.chips native access false",
                        "module io.jvfio.cli native access false",
                        "module io.jvfio.devices native access false",
                        "module io.jvfio.kvm native access false",
                        "module io.jvfio.machine native access false",
                        "module io.jvfio.platform native access false",
                        "module io.jvfio.sys native access true",
                        "module io.jvfio.vfio native access false",
                        "module io.jvfio.vfio.kernel native access false",
                        "module io.jvfio.vfiouser native access false");
        assertThat(probe.out())
                .anyMatch(line -> line.startsWith("eventfd through io.jvfio.sys: "))
                .contains("restricted call outside io.jvfio.sys: refused");
        assertThat(probe.err())
                .as("System.Logger messages go through io.jvfio.cli's logger finder")
                .matches("(?ms).*^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z] WARNING: a warning from outside$.*");
    }

    @Test
    @Timeout(180)
    void aGuestRunsWithNativeAccessForIoJvfioSysAlone() throws Exception {
        Tiers.assumeKvm();

        Exit run = java(
                REPO.resolve("guests/target/classes").toString(),
                "-m",
                "io.jvfio.cli/io.jvfio.cli.Jvfio",
                "run",
                "--guest",
                "hello");

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("hello from guest");
        assertThat(run.err()).doesNotContain("WARNING", "restricted");
    }

    /** The test classes with guests on the class path, so the probe's unnamed module is the one outside. */
    private static String testClasses() {
        return REPO.resolve("cli/target/test-classes") + File.pathSeparator + REPO.resolve("guests/target/classes");
    }

    private static Exit java(String classPath, String... mainAndArgs) throws IOException, InterruptedException {
        List<String> modulePath = new ArrayList<>();
        for (String module : MODULES) {
            Path classes = REPO.resolve(module).resolve("target/classes");
            assertThat(classes.resolve("module-info.class"))
                    .as("module %s is built", module)
                    .exists();
            modulePath.add(classes.toString());
        }
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=io.jvfio.sys",
                "--illegal-native-access=deny",
                "--module-path",
                String.join(File.pathSeparator, modulePath),
                "-cp",
                classPath));
        command.addAll(List.of(mainAndArgs));
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
        List<String> out = readAll(process.getInputStream()).lines().toList();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the child JVM did not end within 120 s: " + command);
        }
        return new Exit(process.exitValue(), out, err.join());
    }

    private static String readAll(InputStream stream) {
        try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
