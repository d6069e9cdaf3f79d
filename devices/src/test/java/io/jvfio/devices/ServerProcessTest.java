package io.jvfio.devices;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.ID;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.ID_VALUE;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.REGS_REGION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.testing.Resources;
import io.jvfio.sys.testing.Tiers;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ServerProcess}: a device server in a child JVM, its output, and what closing it leaves behind. */
@Tag(Tiers.PROCESS)
class ServerProcessTest {

    @TempDir
    Path directory;

    @Test
    void servedTestDeviceAnswersAndClosingLeavesNoThreadFdOrSocket() throws Exception {
        // Warm up once so lazily opened jars do not count as leaks.
        serveAndRead(directory.resolve("warm.sock"));
        int fds = Resources.openFds();
        Set<Thread> threads = Resources.liveThreads();
        Path socket = directory.resolve("dev.sock");

        serveAndRead(socket);

        assertThat(Files.exists(socket)).as("socket removed").isFalse();
        assertThat(Resources.threadsStartedSince(threads)).as("threads left").isEmpty();
        assertThat(Resources.openFds()).as("fds back").isEqualTo(fds);
    }

    @Test
    void aServerThatExitsBeforeListeningFailsWithItsLastOutput() {
        Path socket = directory.resolve("bad.sock");

        assertThatThrownBy(() -> ServerProcess.start(socket, List.of(), List.of("--irqs", "12")))
                .hasMessageStartingWith("the device server on " + socket + " exited with 2 before it listened; "
                        + "its last output: jvfio serve: ")
                .hasMessageContaining("--irqs");
    }

    @Test
    void aChattyChildIsDrainedSoItGetsReadyAndItsLaterLinesCanBeAwaited() throws Exception {
        Path socket = directory.resolve("chatty.sock");
        // 100,000 lines are some 6 MB: a child whose pipe nobody read would block long before its ready line.
        try (ServerProcess server = ServerProcess.startMain(
                socket,
                Duration.ofSeconds(60),
                List.of(),
                List.of(ChattyServer.class.getName(), socket.toString(), "100000"))) {
            assertThat(server.awaitLine(Pattern.compile("after (\\d+) lines"), Duration.ofSeconds(10)))
                    .hasValueSatisfying(m -> assertThat(m.group(1)).isEqualTo("100000"));
            assertThat(server.awaitLine(Pattern.compile(".*"), Duration.ofMillis(100)))
                    .as("nothing left unread")
                    .isEmpty();
            assertThat(server.lastOutput()).isEqualTo("; its last output: after 100000 lines");
            assertThat(server.pid()).isNotEqualTo(ProcessHandle.current().pid());
        }
        assertThat(Files.exists(socket)).as("socket removed").isFalse();
    }

    @Test
    void aServerThatDoesNotListenInTimeIsStoppedAndReported() throws Exception {
        Path socket = directory.resolve("slow.sock");
        // Ten million lines take this child far longer than the timeout to print.
        List<String> mainAndArgs = List.of(ChattyServer.class.getName(), socket.toString(), "10000000");

        assertThatThrownBy(() -> ServerProcess.startMain(socket, Duration.ofSeconds(1), List.of(), mainAndArgs))
                .hasMessageStartingWith("the device server on " + socket + " did not listen within 1 s");
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive))
                .as("child stopped")
                .isEmpty();
    }

    @Test
    void closingWhileInterruptedStillStopsTheServerAndKeepsTheInterrupt() throws Exception {
        Path socket = directory.resolve("interrupted.sock");
        ServerProcess server = ServerProcess.start(socket, List.of(), List.of("--irqs", "2"));
        ProcessHandle child = ProcessHandle.of(server.pid()).orElseThrow();

        Thread.currentThread().interrupt();
        try {
            server.close();
            assertThat(Thread.currentThread().isInterrupted())
                    .as("interrupt kept")
                    .isTrue();
        } finally {
            Thread.interrupted();
        }

        assertThat(child.onExit().get(10, TimeUnit.SECONDS).isAlive())
                .as("server gone")
                .isFalse();
        assertThat(Files.exists(socket)).as("socket removed").isFalse();
    }

    @Test
    void anInterruptWhileTheServerStartsKillsItAndRemovesTheSocketItBound() throws Exception {
        Path socket = directory.resolve("starting.sock");
        // A server that has bound its socket and not yet said so.
        List<String> command = List.of("sh", "-c", "touch \"$0\" && exec sleep 60", socket.toString());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread starter = Thread.ofPlatform().start(() -> {
            try {
                ServerProcess.startCommand(socket, Duration.ofSeconds(60), command)
                        .close();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }

        starter.interrupt();
        starter.join(Duration.ofSeconds(10));

        assertThat(failure.get()).hasMessageStartingWith("interrupted while the device server on " + socket);
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive))
                .as("child stopped")
                .isEmpty();
        assertThat(Files.exists(socket))
                .as("socket removed, so that the next server can bind it")
                .isFalse();
    }

    private static void serveAndRead(Path socket) throws Exception {
        try (ServerProcess server = ServerProcess.start(socket, List.of(), List.of("--irqs", "2"));
                VfioUserDevice device = VfioUserDevice.connect(server.socket())) {
            assertThat(device.read(REGS_REGION, ID, 4)).isEqualTo(ID_VALUE);
        }
    }
}
