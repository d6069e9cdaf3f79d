package io.jvfio.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * startup: the wall time of whole {@code ./jvfio} processes, launcher included, against the JVM's floor,
 * {@code java -version} of the same JDK, measured in the same run: {@code jvfio --version}, {@code jvfio
 * info --socket PATH} against a test device that {@code jvfio serve} serves for the whole run, and, where
 * /dev/kvm is usable, {@code jvfio run --guest hello}. After warm-up rounds (discarded: page cache, the
 * first mapping of the AOT cache), each round runs every command once, the order rotating from round to
 * round, so drift in the machine's load hits all alike. Each command's figure is the median of its
 * rounds, its ratio that over the floor's median; the result is the largest ratio. Targets (issue 18):
 * version 3, info 4, run 5.
 *
 * <pre>Startup LAUNCHER JAVA [ROUNDS [WARMUP]]</pre>
 */
public final class Startup {
    private static final Map<String, Double> TARGETS = Map.of("version", 3.0, "info", 4.0, "run", 5.0);
    private static final Path KVM = Path.of("/dev/kvm");
    /** Far beyond any command's start-up, a first build by the launcher included. */
    private static final long LIMIT_MINUTES = 10;

    private Startup() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Startup LAUNCHER JAVA [ROUNDS [WARMUP]]");
            System.exit(2);
        }
        String launcher = args[0];
        String java = args[1];
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 2;

        Path directory = Files.createTempDirectory("jvfio-bench-startup");
        Path socket = directory.resolve("test-device.sock");
        Process server = serve(launcher, socket);
        try {
            Map<String, List<String>> commands = new LinkedHashMap<>();
            commands.put("java -version", List.of(java, "-version"));
            commands.put("version", List.of(launcher, "--version"));
            commands.put("info", List.of(launcher, "info", "--socket", socket.toString()));
            if (Files.isReadable(KVM) && Files.isWritable(KVM)) {
                commands.put("run", List.of(launcher, "run", "--guest", "hello"));
            } else {
                System.out.println("no usable /dev/kvm: jvfio run --guest hello is left out");
            }
            List<String> names = new ArrayList<>(commands.keySet());
            Map<String, Rounds> figures = new LinkedHashMap<>();
            names.forEach(name -> figures.put(name, new Rounds()));
            for (int round = -warmup; round < rounds; round++) {
                StringBuilder line = new StringBuilder(round < 0 ? "warm-up (discarded):" : "round " + round + ":");
                for (String name : order(names, round)) {
                    double millis = timeMillis(commands.get(name));
                    if (round >= 0) {
                        figures.get(name).add(millis);
                    }
                    line.append(String.format(Locale.ROOT, " %s %.0f ms", name, millis));
                }
                System.out.println(line);
            }
            double floor = figures.get("java -version").median();
            System.out.printf(
                    Locale.ROOT,
                    "java -version: median %.1f ms (%.1f-%.1f)%n",
                    floor,
                    figures.get("java -version").min(),
                    figures.get("java -version").max());
            for (String name : names.subList(1, names.size())) {
                Rounds command = figures.get(name);
                double ratio = command.median() / floor;
                System.out.printf(
                        Locale.ROOT,
                        "jvfio %s: median %.1f ms (%.1f-%.1f), ratio %.2f (best-of-%d %.2f), " + "target %.0f%s%n",
                        name,
                        command.median(),
                        command.min(),
                        command.max(),
                        ratio,
                        rounds,
                        command.min() / figures.get("java -version").min(),
                        TARGETS.get(name),
                        ratio <= TARGETS.get(name) ? "" : " MISSED");
            }
            System.out.println(resultLine(figures));
        } finally {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                ProcessTree.destroy(server);
                server.waitFor(10, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(socket);
            Files.deleteIfExists(directory);
        }
    }

    /** The order of round {@code round} (below 0 in the warm-up): {@code names} rotated by it. */
    static List<String> order(List<String> names, int round) {
        List<String> order = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            order.add(names.get(Math.floorMod(round + i, names.size())));
        }
        return order;
    }

    /**
     * The last line from each command's rounds, the floor's first: the largest of the commands' ratios of
     * their median over the floor's median, each command's ratio, and the floor's median.
     */
    static String resultLine(Map<String, Rounds> figures) {
        List<String> names = new ArrayList<>(figures.keySet());
        double floor = figures.get(names.getFirst()).median();
        double worst = 0;
        List<String> parts = new ArrayList<>();
        for (String name : names.subList(1, names.size())) {
            double ratio = figures.get(name).median() / floor;
            worst = Math.max(worst, ratio);
            parts.add(String.format(Locale.ROOT, "%s %.2f", name, ratio));
        }
        return String.format(
                Locale.ROOT,
                "startup: ratio=%.2f (%s; %s %.0f ms)",
                worst,
                String.join(", ", parts),
                names.getFirst(),
                floor);
    }

    /** {@code jvfio serve test-device --socket SOCKET}, once it printed that it serves. */
    private static Process serve(String launcher, Path socket) throws IOException {
        Process server = new ProcessBuilder(launcher, "serve", "test-device", "--socket", socket.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            server.getOutputStream().close();
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            if (line == null || !line.startsWith("serving ")) {
                throw new IOException("jvfio serve did not start serving: " + line);
            }
            return server;
        } catch (IOException | RuntimeException e) {
            ProcessTree.destroy(server);
            throw e;
        }
    }

    /**
     * The wall time of one process, from its start to its exit; it must exit 0 within {@link #LIMIT_MINUTES}
     * (else it is killed, with what it started: the launcher's build).
     */
    private static double timeMillis(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        long start = System.nanoTime();
        Process process = builder.start();
        try {
            if (!process.waitFor(LIMIT_MINUTES, TimeUnit.MINUTES)) {
                throw new IOException(String.join(" ", command) + " did not exit within " + LIMIT_MINUTES
                        + " minutes and was killed");
            }
            double millis = (System.nanoTime() - start) / 1e6;
            int code = process.exitValue();
            if (code != 0) {
                throw new IOException(String.join(" ", command) + " exited with " + code);
            }
            return millis;
        } finally {
            ProcessTree.destroy(process);
        }
    }
}
