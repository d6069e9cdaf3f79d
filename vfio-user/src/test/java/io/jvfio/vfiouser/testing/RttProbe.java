package io.jvfio.vfiouser.testing;

import io.jvfio.sys.UnixSocket;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Informal round-trip probe (not a test): {@code RttProbe pong PATH} echoes 64-byte messages;
 * {@code RttProbe DIR} starts a pong child and a vfio-user server child and compares, interleaved, a
 * raw 64-byte AF_UNIX ping-pong with an 8-byte REGION_READ round trip.
 */
public final class RttProbe {
    private RttProbe() {}

    public static void main(String[] args) throws Exception {
        if (args[0].equals("pong")) {
            try (UnixSocket listening = UnixSocket.listen(Path.of(args[1]), 1)) {
                System.out.println("ready");
                System.out.flush();
                try (UnixSocket peer = listening.accept()) {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(64);
                    while (true) {
                        buffer.clear();
                        if (!peer.receiveFully(buffer)) {
                            return;
                        }
                        buffer.flip();
                        peer.send(new ByteBuffer[] {buffer}, new int[0]);
                    }
                }
            }
        }
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        Path pongPath = dir.resolve("pong.sock");
        Path devicePath = dir.resolve("dev.sock");
        Process pong = child(RttProbe.class.getName(), "pong", pongPath.toString());
        Process server = child(TestServerMain.class.getName(), devicePath.toString());
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        try (UnixSocket socket = UnixSocket.connect(pongPath);
                VfioUserDevice device = VfioUserDevice.connect(devicePath)) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(64);
            double bestRaw = Double.MAX_VALUE;
            double bestUser = Double.MAX_VALUE;
            for (int round = 0; round < 8; round++) {
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    buffer.clear();
                    socket.send(new ByteBuffer[] {buffer}, new int[0]);
                    socket.receiveFully(buffer);
                }
                double raw = (System.nanoTime() - start) / 1000.0 / n;
                start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    device.read(0, 0, 8);
                }
                double user = (System.nanoTime() - start) / 1000.0 / n;
                System.out.printf(
                        "round %d: raw %.2f us, vfio-user %.2f us, ratio %.3f%n", round, raw, user, user / raw);
                if (round >= 2) {
                    bestRaw = Math.min(bestRaw, raw);
                    bestUser = Math.min(bestUser, user);
                }
            }
            System.out.printf(
                    "vfio-user-rtt: ratio=%.3f (jvfio %.2f us, floor %.2f us)%n",
                    bestUser / bestRaw, bestUser, bestRaw);
        } finally {
            pong.destroy();
            server.getOutputStream().close();
            server.waitFor();
        }
    }

    private static Process child(String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(
                List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String line = new BufferedReader(new InputStreamReader(process.getInputStream())).readLine();
        if (!"ready".equals(line)) {
            throw new IllegalStateException("child said " + line);
        }
        return process;
    }
}
