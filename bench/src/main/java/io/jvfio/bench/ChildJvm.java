package io.jvfio.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.jvfio.devices.ServerProcess;

/** The benchmarks' child JVMs (servers and raw peers): started with this JVM's java, options and module path. */
final class ChildJvm {
    private ChildJvm() {
    }

    /** Starts {@code main} in a child JVM with this JVM's java, options and module path; waits for "ready". */
    static Process start(Class<?> main, Path socket) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        // The children run with this JVM's options (bench/run's BENCH_JVM_ARGS reach every JVM of a run).
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(ServerProcess.withoutLaunchOptions(ManagementFactory.getRuntimeMXBean().getInputArguments()));
        command.addAll(ServerProcess.launchArguments(main.getName()));
        command.add(socket.toString());
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        String line = output.readLine();
        if (!"ready".equals(line)) {
            // a JVM that died at start (as under nested TCG now and then) says why in its first lines
            List<String> said = new ArrayList<>();
            for (; line != null && said.size() < 8; line = output.readLine()) {
                said.add(line);
            }
            process.destroyForcibly();
            throw new IOException(main.getSimpleName() + " child did not say ready; it said: "
                    + String.join(" | ", said));
        }
        return process;
    }
}
