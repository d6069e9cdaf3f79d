package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --trace FILE} writes a JFR recording when the command ends, whatever the command. */
class TraceTest {
    @TempDir
    Path directory;

    @Test
    void traceWritesARecordingWithOnlyJvfioEvents() throws Exception {
        Path trace = directory.resolve("t.jfr");

        CliRunner help =
                CliRunner.run("--trace", trace.toString(), "bind", "absent", "--sysfs-root", directory.toString());

        assertThat(help.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(trace).isRegularFile();
        assertThat(Files.size(trace)).isPositive();
        assertThat(RecordingFile.readAllEvents(trace))
                .allMatch(e -> e.getEventType().getName().startsWith("io.jvfio."));
    }

    @Test
    void traceIntoAMissingDirectoryIsAUsageErrorSayingWhatIsWrong() {
        Path trace = directory.resolve("missing/t.jfr");

        CliRunner help = CliRunner.run("--trace", trace.toString(), "help");

        assertThat(help.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(help.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio help: --trace " + trace + ": cannot write the recording there: no such file or"
                        + " directory");
    }

    @Test
    void traceAfterTheSubcommandIsAcceptedToo() {
        Path trace = directory.resolve("after.jfr");

        CliRunner run =
                CliRunner.run("bind", "absent", "--sysfs-root", directory.toString(), "--trace", trace.toString());

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(trace).isRegularFile();
    }
}
