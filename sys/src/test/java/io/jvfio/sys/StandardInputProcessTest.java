package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.Tiers;
import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@link StandardInput} as a child JVM's fd 0 (the test JVM's own stdin carries the test runner's
 * commands): it passes bytes and the end of a pipe through, and an interrupt or a close ends a read that
 * waits on a pipe nobody writes to, which {@code System.in} would wait on for good.
 */
@Tag(Tiers.PROCESS)
class StandardInputProcessTest {
    /**
     * The child: {@code copy} echoes its stdin to stdout until the end; {@code interrupt} reads on a
     * thread, interrupts it after 200 ms and prints how the read ended; {@code close} closes the stream
     * instead, then reads once more.
     */
    public static void main(String[] args) throws Exception {
        StandardInput input = new StandardInput();
        if (args[0].equals("copy")) {
            input.transferTo(System.out);
            System.out.println("<end>");
            return;
        }
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                System.out.println("read " + input.read());
            } catch (InterruptedIOException e) {
                System.out.println("interrupted");
            } catch (IOException e) {
                System.out.println("failed: " + e);
            }
        });
        Thread.sleep(200);
        if (args[0].equals("close")) {
            input.close();
        } else {
            reader.interrupt();
        }
        reader.join(2000);
        System.out.println(reader.isAlive() ? "still reading" : "ended");
        if (args[0].equals("close")) {
            System.out.println("then read " + input.read());
        }
        System.exit(0);
    }

    private static Process child(String mode, ProcessBuilder.Redirect stdin) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(List.of(
                        java,
                        "--enable-native-access=ALL-UNNAMED",
                        "-cp",
                        System.getProperty("java.class.path"),
                        StandardInputProcessTest.class.getName(),
                        mode))
                .redirectInput(stdin)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    private static String output(Process process) throws Exception {
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("child exited").isTrue();
        return out;
    }

    @Test
    void bytesWrittenToAPipeArriveAndItsEndIsTheEndOfInput() throws Exception {
        Process process = child("copy", ProcessBuilder.Redirect.PIPE);
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write("one line\nand another\n".getBytes(StandardCharsets.US_ASCII));
        }

        assertThat(output(process)).isEqualTo("one line\nand another\n<end>\n");
    }

    @Test
    void interruptEndsAReadOnAPipeThatStaysOpen() throws Exception {
        Process process = child("interrupt", ProcessBuilder.Redirect.PIPE);
        try (OutputStream _ = process.getOutputStream()) {
            assertThat(output(process)).isEqualTo("interrupted\nended\n");
        }
    }

    @Test
    void closeEndsAReadOnAPipeThatStaysOpenAndEveryLaterOne() throws Exception {
        Process process = child("close", ProcessBuilder.Redirect.PIPE);
        try (OutputStream _ = process.getOutputStream()) {
            assertThat(output(process)).isEqualTo("read -1\nended\nthen read -1\n");
        }
    }

    @Test
    void devNullIsAnEmptyInput() throws Exception {
        Process process = child("copy", ProcessBuilder.Redirect.from(new File("/dev/null")));

        assertThat(output(process)).isEqualTo("<end>\n");
    }
}
