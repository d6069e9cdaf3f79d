package io.jvfio.cli;

import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.PlatformBus;
import io.jvfio.platform.AssignedMachine;
import io.jvfio.platform.VfioPlatformDevice;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.platform.devicetree.FdtWriter;
import io.jvfio.platform.devicetree.PlatformBusTree;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code jvfio dt}: the device tree a guest gets for the given devices. The devices are realized on a
 * machine that never starts (so the addresses and GSIs are the ones {@code run} would give); that needs
 * KVM. DTS goes to stdout through {@code dtc}, the DTB to {@code -o FILE}; both are checked before the
 * machine is built.
 */
final class DtCommand implements Subcommand {
    static final CommandSpec SPEC = CommandSpec.of(
            "dt",
            "Write the guest's device tree for the given devices.",
            "Write the guest device tree for the given devices: DTS on stdout (via dtc), DTB with -o. The devices are "
                    + "realized on a machine that is never started, so this needs /dev/kvm.",
            OptionSpec.value("SPEC", "A device, as for 'jvfio run'. Repeatable.", "--device")
                    .mustBeGiven()
                    .mayRepeat(),
            OptionSpec.value("FILE", "Write the DTB to FILE.", "-o", "--output"));

    private static final Duration DTC_TIMEOUT = Duration.ofSeconds(30);

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
        List<PlatformDeviceConfig> devices = args.values("--device", DeviceSpecParser::parse);
        Path output = args.value("--output").map(Path::of).orElse(null);
        Path dtc = findOnPath("dtc");
        checkOutputs(output, dtc);
        byte[] dtb;
        MachineConfig machineConfig = MachineConfig.builder()
                .guest(MachineConfig.guestResource("hello"))
                .build();
        try (AssignedMachine assignment = AssignedMachine.create(machineConfig, devices)) {
            PlatformBusTree tree = PlatformBusTree.create(
                    PlatformBusTree.DEFAULT_MODEL,
                    new PlatformBusTree.MmioRange(PlatformBus.MMIO_WINDOW_BASE, PlatformBus.MMIO_WINDOW_SIZE));
            for (VfioPlatformDevice device : assignment.devices()) {
                device.addTo(tree);
            }
            dtb = FdtWriter.write(tree.build());
        }
        if (output != null) {
            Files.write(output, dtb);
        }
        if (dtc == null) {
            err.println("jvfio dt: wrote " + output + " (" + dtb.length + " bytes); no dtc on PATH, so no DTS "
                    + "(install device-tree-compiler)");
            return 0;
        }
        out.print(toDts(dtc, dtb));
        out.flush();
        return 0;
    }

    /**
     * Refuses an {@code output} the DTB cannot be written to, or, without one, a missing {@code dtc} (null):
     * checked before the machine is built, which takes KVM and connects to every device, so that a mistake in
     * either costs one line and nothing else.
     */
    static void checkOutputs(Path output, Path dtc) throws IOException {
        if (output == null) {
            if (dtc == null) {
                throw new IOException(
                        "dtc is not on PATH: install device-tree-compiler for DTS, or write the DTB with -o FILE");
            }
            return;
        }
        Path directory = output.toAbsolutePath().getParent();
        String problem;
        if (Files.isDirectory(output)) {
            problem = "is a directory";
        } else if (Files.exists(output)) {
            problem = Files.isWritable(output) ? null : "is not writable";
        } else if (!Files.exists(directory)) {
            problem = "directory " + directory + " does not exist";
        } else if (!Files.isDirectory(directory)) {
            problem = directory + " is not a directory";
        } else {
            problem = Files.isWritable(directory) ? null : "directory " + directory + " is not writable";
        }
        if (problem != null) {
            throw new IOException("-o " + output + ": " + problem);
        }
    }

    /**
     * {@code dtc -I dtb -O dts} of {@code dtb}. dtc writes the DTS to a file of its own, so that nothing it
     * says on its stdout or stderr can end up in the DTS; what it says goes into the error when it fails.
     */
    static String toDts(Path dtc, byte[] dtb) throws IOException, InterruptedException {
        return toDts(dtc, dtb, DTC_TIMEOUT);
    }

    /**
     * As {@link #toDts(Path, byte[])}, with dtc stopped after {@code timeout}. What dtc says goes to a file
     * too: reading it from a pipe would wait for dtc (and anything that inherited the pipe) to close it,
     * however long that takes, before the timeout is even looked at.
     */
    static String toDts(Path dtc, byte[] dtb, Duration timeout) throws IOException, InterruptedException {
        Path input = Files.createTempFile("jvfio-dt", ".dtb");
        Path dts = Files.createTempFile("jvfio-dt", ".dts");
        Path said = Files.createTempFile("jvfio-dt", ".out");
        try {
            Files.write(input, dtb);
            Process process = new ProcessBuilder(
                            dtc.toString(), "-q", "-I", "dtb", "-O", "dts", "-o", dts.toString(), input.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(said.toFile())
                    .start();
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IOException("dtc did not finish within " + timeout.toSeconds() + " s");
                }
            } finally {
                // Ends dtc when it timed out or this thread was interrupted; a no-op once it exited.
                process.destroyForcibly();
            }
            if (process.exitValue() != 0) {
                throw new IOException("dtc failed (exit " + process.exitValue() + "): "
                        + Jvfio.oneLine(new String(Files.readAllBytes(said), StandardCharsets.UTF_8)));
            }
            return Files.readString(dts, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(input);
            Files.deleteIfExists(dts);
            Files.deleteIfExists(said);
        }
    }

    static Path findOnPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String directory : path.split(":")) {
            if (directory.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(directory, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
