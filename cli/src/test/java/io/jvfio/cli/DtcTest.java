package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jvfio dt}'s use of dtc, with scripts in its place: what it says when dtc fails or hangs; and its outputs,
 * checked before it builds a machine, so these run (and mean the same) with or without /dev/kvm.
 */
class DtcTest {
    @TempDir
    Path directory;

    @Test
    void failingDtcIsOneLineWithWhatItSaid() throws Exception {
        Path dtc = script("dtc", "echo 'FATAL ERROR: bad input' >&2; exit 1");

        assertThatThrownBy(() -> DtCommand.toDts(dtc, new byte[] {1, 2, 3}))
                .isInstanceOf(IOException.class)
                .hasMessage("dtc failed (exit 1): FATAL ERROR: bad input");
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void dtcThatDoesNotFinishIsStoppedAtTheBoundAndSaidSo() throws Exception {
        Path pid = directory.resolve("dtc.pid");
        // The child keeps dtc's stdout and stderr open, as a hung dtc would.
        Path dtc = script("dtc", "sleep 60 & echo $! > " + pid + "; wait");

        try {
            assertThatThrownBy(() -> DtCommand.toDts(dtc, new byte[] {1, 2, 3}, Duration.ofSeconds(1)))
                    .isInstanceOf(IOException.class)
                    .hasMessage("dtc did not finish within 1 s");
        } finally {
            if (Files.exists(pid)) {
                ProcessHandle.of(Long.parseLong(Files.readString(pid).strip())).ifPresent(ProcessHandle::destroy);
            }
        }
    }

    @Test
    void outputInADirectoryThatDoesNotExistFailsInOneLineBeforeAMachineIsBuilt() {
        Path socket = directory.resolve("nobody-listens.sock");
        Path output = directory.resolve("missing").resolve("guest.dtb");

        CliRunner run = CliRunner.run("dt", "--device", "vfio-platform,socket=" + socket, "-o", output.toString());

        assertThat(run.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(run.errLines())
                .singleElement()
                .asString()
                .isEqualTo("jvfio dt: -o " + output + ": directory " + output.getParent() + " does not exist");
    }

    @Test
    void outputThatIsADirectoryIsRefused() {
        assertThatThrownBy(() -> DtCommand.checkOutputs(directory, null))
                .isInstanceOf(IOException.class)
                .hasMessage("-o " + directory + ": is a directory");
    }

    @Test
    void noDtcIsRefusedWithoutAnOutputAndLeftToTheWarningWithOne() throws Exception {
        assertThatThrownBy(() -> DtCommand.checkOutputs(null, null))
                .isInstanceOf(IOException.class)
                .hasMessage("dtc is not on PATH: install device-tree-compiler for DTS, or write the DTB with -o FILE");

        DtCommand.checkOutputs(directory.resolve("guest.dtb"), null);
    }

    private Path script(String name, String body) throws IOException {
        Path file = directory.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
        return file;
    }
}
