package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** java.lang.foreign stays in sys: every other module speaks in typed objects. */
class ForeignConfinementTest {
    @Test
    void noModuleButSysImportsJavaLangForeign() throws IOException {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        List<Path> offenders;
        try (Stream<Path> files = Files.walk(root)) {
            offenders = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> p.toString().contains("/src/main/java/"))
                    .filter(p -> !root.relativize(p).startsWith("sys"))
                    .filter(ForeignConfinementTest::usesForeignApi)
                    .toList();
        }
        assertThat(offenders)
                .as("main sources outside sys that use java.lang.foreign")
                .isEmpty();
    }

    /** Code (not comments) naming the package: an import or a qualified use. */
    private static boolean usesForeignApi(Path source) {
        try (Stream<String> lines = Files.lines(source)) {
            return lines.map(String::strip)
                    .filter(line -> !line.startsWith("*") && !line.startsWith("/*") && !line.startsWith("//"))
                    .anyMatch(line -> line.contains("java.lang.foreign"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
