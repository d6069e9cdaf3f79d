package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

/** The one line {@code jvfio} prints for a failure: what went wrong, not only where. */
class ErrorLineTest {
    @Test
    void aFileExceptionThatNamesOnlyThePathSaysWhatIsWrongWithIt() {
        assertThat(Jvfio.describe(new NoSuchFileException("/nonexistent/out.dtb")))
                .isEqualTo("/nonexistent/out.dtb: no such file or directory");
        assertThat(Jvfio.describe(new AccessDeniedException("/root/out.dtb")))
                .isEqualTo("/root/out.dtb: permission denied");
    }

    @Test
    void aFileExceptionWithAReasonKeepsIt() {
        assertThat(Jvfio.describe(new FileSystemException("/tmp", null, "Is a directory")))
                .isEqualTo("/tmp: Is a directory");
    }

    @Test
    void otherExceptionsGiveTheirMessagesFirstLineOrTheirType() {
        assertThat(Jvfio.describe(new IOException("dtc failed\nat line 2"))).isEqualTo("dtc failed");
        assertThat(Jvfio.describe(new IllegalStateException())).isEqualTo("IllegalStateException");
    }
}
