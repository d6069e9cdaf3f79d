package io.jvfio.bench;

import io.jvfio.devices.ServerProcess;
import io.jvfio.sys.UnixSocket;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * vfio-user-rtt: an 8-byte REGION_READ round trip, jvfio's client in this JVM against jvfio's server
 * in a child JVM, against the floor: a raw 64-byte AF_UNIX SOCK_STREAM ping-pong between two processes
 * ({@code bench/c/pingpong.c}). After a JIT warm-up of the client and the server, rounds alternate
 * (floor, jvfio, floor, jvfio, ...), each N round trips; the result is the ratio of the medians. Each
 * round also shows the CPU time per round trip of both processes together (from /proc schedstat), which
 * says how much of a round trip is work rather than waiting, and a diagnostic "java raw" figure: the same
 * 64-byte ping-pong as the floor but between this JVM and another child JVM through
 * {@code io.jvfio.sys.UnixSocket}, which separates the cost of the protocol from that of the processes
 * being JVMs; and a second diagnostic, the floor's ping-pong with its echoing side reading by recvmsg(2)
 * with room for fds, the call a vfio-user server cannot do without (any request may carry fds).
 *
 * <pre>VfioUserRtt PINGPONG_BINARY [ROUNDS [N [WARMUP]]]</pre>
 */
public final class VfioUserRtt {
    private static final com.sun.management.ThreadMXBean ALLOCATION =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private VfioUserRtt() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: VfioUserRtt PINGPONG_BINARY [ROUNDS [N [WARMUP]]]");
            System.exit(2);
        }
        String pingpong = args[0];
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 50_000;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 200_000;

        Path dir = Files.createTempDirectory("jvfio-bench-rtt");
        Path socket = dir.resolve("device.sock");
        Path pongSocket = dir.resolve("pong.sock");
        try (ServerProcess server = ServedDevices.start(RttServerMain.class, socket, ServedDevices.Jit.FULL);
                ServerProcess pong = ServedDevices.start(PongMain.class, pongSocket, ServedDevices.Jit.FULL);
                VfioUserDevice device = VfioUserDevice.connect(socket);
                UnixSocket raw = UnixSocket.connect(pongSocket)) {
            System.out.printf(
                    Locale.ROOT, "warm-up: %d REGION_READ round trips, %d java raw ping-pongs%n", warmup, warmup);
            readLoop(device, warmup);
            rawLoop(raw, warmup);
            Rounds floor = new Rounds();
            Rounds jvfio = new Rounds();
            Rounds javaRaw = new Rounds();
            Rounds serverRecvmsg = new Rounds();
            long self = ProcessHandle.current().pid();
            CpuTime.Tracker jvfioJvms = CpuTime.of(self, server.pid());
            CpuTime.Tracker rawJvms = CpuTime.of(self, pong.pid());
            for (int round = 0; round < rounds; round++) {
                double[] floorFigures =
                        Baseline.runAll(List.of(pingpong, Integer.toString(n), Integer.toString(n / 10)));
                double floorNs = floorFigures[0];
                double serverRecvmsgNs =
                        Baseline.run(List.of(pingpong, Integer.toString(n), Integer.toString(n / 10), "recvmsg"));
                long clientAllocated = ALLOCATION.getCurrentThreadAllocatedBytes();
                long serverAllocated = device.read(0, RttServerMain.ALLOCATED_OFFSET, 8);
                CpuTime before = jvfioJvms.sample();
                double jvfioNs = readLoop(device, n);
                CpuTime used = jvfioJvms.sample().minus(before);
                clientAllocated = ALLOCATION.getCurrentThreadAllocatedBytes() - clientAllocated;
                serverAllocated = device.read(0, RttServerMain.ALLOCATED_OFFSET, 8) - serverAllocated;
                before = rawJvms.sample();
                double rawNs = rawLoop(raw, n);
                CpuTime rawUsed = rawJvms.sample().minus(before);
                floor.add(floorNs);
                jvfio.add(jvfioNs);
                javaRaw.add(rawNs);
                serverRecvmsg.add(serverRecvmsgNs);
                System.out.printf(
                        Locale.ROOT,
                        "round %d: floor %.2f us (cpu %.2f; %.2f us with the server's recvmsg), jvfio %.2f us (cpu"
                                + " %.2f, %.2f switches, allocated %d B client + %d B server), java raw %.2f us (cpu"
                                + " %.2f, %.2f switches); ratio %.3f%n",
                        round,
                        floorNs / 1000,
                        floorFigures.length > 1 ? floorFigures[1] / 1000 : Double.NaN,
                        serverRecvmsgNs / 1000,
                        jvfioNs / 1000,
                        (double) used.cpuNs() / n / 1000,
                        (double) used.switches() / n,
                        clientAllocated / n,
                        serverAllocated / n,
                        rawNs / 1000,
                        (double) rawUsed.cpuNs() / n / 1000,
                        (double) rawUsed.switches() / n,
                        jvfioNs / floorNs);
            }
            System.out.printf(
                    Locale.ROOT,
                    "medians of %d rounds of %d round trips; floor %.2f-%.2f us, jvfio %.2f-%.2f us;"
                            + " best-of-%d ratio %.2f (diagnostic)%n",
                    rounds,
                    n,
                    floor.min() / 1000,
                    floor.max() / 1000,
                    jvfio.min() / 1000,
                    jvfio.max() / 1000,
                    rounds,
                    jvfio.min() / floor.min());
            System.out.printf(
                    Locale.ROOT,
                    "diagnostic, not the result: java raw (the same 64-byte ping-pong between two JVMs"
                            + " through io.jvfio.sys.UnixSocket) %.2f us; jvfio/java raw %.2f%n",
                    javaRaw.median() / 1000,
                    jvfio.median() / javaRaw.median());
            System.out.printf(
                    Locale.ROOT,
                    "diagnostic, not the result: the floor's ping-pong with the echoing side reading by recvmsg(2)"
                            + " with room for fds, as a vfio-user server must, %.2f us (%.2f of the floor);"
                            + " jvfio over it %.2f%n",
                    serverRecvmsg.median() / 1000,
                    serverRecvmsg.median() / floor.median(),
                    jvfio.median() / serverRecvmsg.median());
            System.out.println(resultLine(floor, jvfio));
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    /** {@code count} 8-byte reads of region 0; returns ns per round trip. */
    private static double readLoop(VfioUserDevice device, int count) throws IOException {
        long expected = -1;
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            long value = device.read(0, RttServerMain.COUNTER_OFFSET, 8);
            if (expected >= 0 && value != expected) {
                throw new IllegalStateException("read " + value + ", expected " + expected);
            }
            expected = value + 1;
        }
        return (double) (System.nanoTime() - start) / count;
    }

    /** {@code count} 64-byte ping-pongs with the {@link PongMain} child; returns ns per round trip. */
    private static double rawLoop(UnixSocket socket, int count) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(PongMain.MESSAGE);
        ByteBuffer[] parts = {buffer};
        int[] noFds = new int[0];
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            buffer.clear();
            socket.send(parts, noFds);
            buffer.clear();
            if (!socket.receiveFully(buffer)) {
                throw new IOException("the pong child closed");
            }
        }
        return (double) (System.nanoTime() - start) / count;
    }

    /** The last line: jvfio's median over the floor's, then both medians in us per round trip. */
    static String resultLine(Rounds floor, Rounds jvfio) {
        return String.format(
                Locale.ROOT,
                "vfio-user-rtt: ratio=%.2f (jvfio %.1f us, floor %.1f us)",
                jvfio.median() / floor.median(),
                jvfio.median() / 1000,
                floor.median() / 1000);
    }
}
