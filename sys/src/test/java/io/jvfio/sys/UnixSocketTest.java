package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.testing.Resources;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketTest {
    @TempDir
    Path dir;

    private static ByteBuffer direct(int... bytes) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(Math.max(1, bytes.length));
        for (int b : bytes) {
            buffer.put((byte) b);
        }
        return buffer.flip();
    }

    /** A listen that fails after its bind leaves no socket file behind to make the next bind EADDRINUSE. */
    @Test
    void aListenThatFailsAfterItsBindRemovesItsSocketFile() throws Exception {
        Path occupied = dir.resolve("occupied");
        Files.createDirectories(occupied.resolve("inside"));

        assertThatThrownBy(() -> UnixSocket.listen(occupied, 1)).isInstanceOf(ErrnoException.class);

        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(occupied);
        }
        Files.delete(occupied.resolve("inside"));
        Files.delete(occupied);
        try (UnixSocket listening = UnixSocket.listen(occupied, 1)) {
            assertThat(Files.exists(occupied)).isTrue();
        }
    }

    @Test
    void fdsTravelBothWaysWithTheirMessage() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0];
                UnixSocket b = pair[1];
                EventFd there = EventFd.create(true);
                EventFd back = EventFd.create(true)) {
            a.send(new ByteBuffer[] {direct(1, 2, 3)}, new int[] {there.fd().get()});
            ByteBuffer in = ByteBuffer.allocateDirect(16);
            UnixSocket.Received received = b.receive(in, 4);
            assertThat(received.bytes()).isEqualTo(3);
            assertThat(received.fds()).hasSize(1);
            try (EventFd passed = EventFd.adopt(received.fds().getFirst())) {
                passed.signal();
                assertThat(there.read()).isEqualTo(1);
            }
            b.send(new ByteBuffer[] {direct(9)}, new int[] {back.fd().get()});
            UnixSocket.Received reply = a.receive(ByteBuffer.allocateDirect(16), 4);
            try (EventFd passed = EventFd.adopt(reply.fds().getFirst())) {
                passed.signal();
                assertThat(back.read()).isEqualTo(1);
            }
        }
    }

    @Test
    void tooManyFdsAreClosedAndReportedWithTheBytesKept() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        List<EventFd> eventFds = new ArrayList<>();
        try (UnixSocket a = pair[0];
                UnixSocket b = pair[1]) {
            for (int i = 0; i < 3; i++) {
                eventFds.add(EventFd.create());
            }
            int before = Resources.openFds();
            a.send(
                    new ByteBuffer[] {direct(7, 7)},
                    eventFds.stream().mapToInt(e -> e.fd().get()).toArray());
            ByteBuffer in = ByteBuffer.allocateDirect(16);
            UnixSocket.Received received = b.receive(in, 2);
            assertThat(received.bytes()).isEqualTo(2);
            assertThat(received.fds()).isEmpty();
            assertThat(received.refusedFds()).isEqualTo(3);
            assertThat(received.refused()).isTrue();
            assertThat(Resources.openFds()).as("the refused fds were closed").isEqualTo(before);
        } finally {
            eventFds.forEach(EventFd::close);
        }
    }

    @Test
    void receiveBytesEndsWithTheBytesThatCarriedFdsWhichTheKernelCloses() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0];
                UnixSocket b = pair[1];
                EventFd attached = EventFd.create()) {
            a.send(new ByteBuffer[] {direct(1, 2)}, new int[0]);
            a.send(new ByteBuffer[] {direct(3, 4, 5)}, new int[] {attached.fd().get()});
            a.send(new ByteBuffer[] {direct(6)}, new int[0]);
            int before = Resources.openFds();
            ByteBuffer in = ByteBuffer.allocateDirect(16);
            assertThat(b.receiveBytes(in)).isEqualTo(5);
            assertThat(Resources.openFds()).as("no received fd was installed").isEqualTo(before);
            assertThat(b.receiveBytes(in)).isEqualTo(1);
            in.flip();
            byte[] bytes = new byte[in.remaining()];
            in.get(bytes);
            assertThat(bytes).containsExactly(1, 2, 3, 4, 5, 6);
            a.shutdown();
            assertThat(b.receiveBytes(ByteBuffer.allocateDirect(4)))
                    .as("end of stream")
                    .isZero();
        }
    }

    @Test
    void controlTruncationClosesWhatArrived() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        List<EventFd> eventFds = new ArrayList<>();
        try (UnixSocket a = pair[0];
                UnixSocket b = pair[1]) {
            for (int i = 0; i < UnixSocket.MAX_FDS_PER_MESSAGE; i++) {
                eventFds.add(EventFd.create());
            }
            int before = Resources.openFds();
            a.send(
                    new ByteBuffer[] {direct(1)},
                    eventFds.stream().mapToInt(e -> e.fd().get()).toArray());
            UnixSocket.Received received = b.receive(ByteBuffer.allocateDirect(4), 0);
            assertThat(received.fds()).isEmpty();
            assertThat(received.refused()).isTrue();
            assertThat(Resources.openFds()).isEqualTo(before);
        } finally {
            eventFds.forEach(EventFd::close);
        }
    }

    @Test
    void partialMessagesAreReassembledByReceiveFully() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0];
                UnixSocket b = pair[1]) {
            a.send(new ByteBuffer[] {direct(1, 2), direct(3)}, new int[0]);
            Thread later = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(50);
                    a.send(new ByteBuffer[] {direct(4, 5)}, new int[0]);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            ByteBuffer in = ByteBuffer.allocateDirect(5);
            assertThat(b.receiveFully(in)).isTrue();
            later.join();
            in.flip();
            byte[] bytes = new byte[5];
            in.get(bytes);
            assertThat(bytes).containsExactly(1, 2, 3, 4, 5);
        }
    }

    @Test
    void receiveIfReadyDoesNotBlock() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0];
                UnixSocket b = pair[1]) {
            assertThat(b.receiveIfReady(ByteBuffer.allocateDirect(8), 1)).isNull();
            a.send(new ByteBuffer[] {direct(5)}, new int[0]);
            assertThat(b.receiveIfReady(ByteBuffer.allocateDirect(8), 1).bytes())
                    .isEqualTo(1);
        }
    }

    @Test
    void peerCloseReadsAsEndOfStreamAndMidwayAsReset() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket b = pair[1]) {
            UnixSocket a = pair[0];
            a.send(new ByteBuffer[] {direct(1, 2)}, new int[0]);
            a.close();
            assertThatThrownBy(() -> b.receiveFully(ByteBuffer.allocateDirect(4)))
                    .isInstanceOf(ErrnoException.class)
                    .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.ECONNRESET));
            assertThat(b.receive(ByteBuffer.allocateDirect(4), 1).bytes()).isZero();
            assertThatThrownBy(() -> b.send(new ByteBuffer[] {direct(1)}, new int[0]))
                    .isInstanceOf(ErrnoException.class)
                    .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EPIPE));
        }
    }

    @Test
    void receiveTimeoutFailsWithEagain() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket _ = pair[0];
                UnixSocket b = pair[1]) {
            b.setReceiveTimeout(Duration.ofMillis(50));
            assertThatThrownBy(() -> b.receive(ByteBuffer.allocateDirect(4), 1))
                    .isInstanceOf(ErrnoException.class)
                    .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EAGAIN));
        }
    }

    @Test
    void listeningSocketIsMode0600AndAccepts() throws Exception {
        listensMode0600AndAccepts(dir.resolve("s.sock"));
    }

    private static void listensMode0600AndAccepts(Path path) throws ErrnoException, IOException {
        try (UnixSocket listening = UnixSocket.listen(path, 1);
                UnixSocket client = UnixSocket.connect(path);
                UnixSocket server = listening.accept()) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path)))
                    .isEqualTo("rw-------");
            client.send(new ByteBuffer[] {direct(42)}, new int[0]);
            assertThat(server.receive(ByteBuffer.allocateDirect(1), 0).bytes()).isEqualTo(1);
        }
    }

    /** sun_path holds 107 bytes and a NUL: a path of 107 bytes listens, with no room for a longer temporary name. */
    @Test
    void aPathOfTheLongestLengthASocketTakesListensMode0600() throws Exception {
        String absolute = dir.toAbsolutePath().toString();
        Path path = dir.resolve("s".repeat(107 - absolute.length() - 1));
        assertThat(path.toString()).hasSize(107);

        listensMode0600AndAccepts(path);
        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(path);
        }
    }

    @Test
    void shutdownWakesABlockedReceiver() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket _ = pair[0];
                UnixSocket b = pair[1]) {
            List<Integer> received = new ArrayList<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    received.add(b.receive(ByteBuffer.allocateDirect(4), 1).bytes());
                } catch (ErrnoException e) {
                    throw new AssertionError(e);
                }
            });
            Thread.sleep(50);
            b.shutdown();
            waiter.join(2000);
            assertThat(waiter.isAlive()).isFalse();
            assertThat(received).as("the receive ended as at end of file").containsExactly(0);
        }
    }

    @Test
    void closeEndsAReceiveInProgressBeforeItClosesTheFd() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket _ = pair[0]) {
            UnixSocket b = pair[1];
            List<Integer> received = new ArrayList<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    received.add(b.receive(ByteBuffer.allocateDirect(4), 1).bytes());
                } catch (ErrnoException e) {
                    throw new AssertionError(e);
                }
            });
            Thread.sleep(50);
            b.close();
            waiter.join(2000);
            assertThat(waiter.isAlive()).as("the receiver left its recv").isFalse();
            assertThat(received)
                    .as("woken by the shutdown, not failed on a closed fd")
                    .containsExactly(0);
        }
    }
}
