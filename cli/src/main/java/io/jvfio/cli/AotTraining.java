package io.jvfio.cli;

import io.jvfio.devices.DeviceCatalog;
import io.jvfio.devices.DeviceOptions;
import io.jvfio.devices.ModelledDevice;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The training run of jvfio's AOT cache (JEP 483, 514, 515). The {@code ./jvfio} launcher runs it once
 * after each build, under {@code -XX:AOTCacheOutput}, and then starts jvfio with {@code -XX:AOTCache}:
 * the classes these commands use come loaded and linked from the cache, with the training's method
 * profiles. It runs what test rigs start over and over: {@code --version}, every command's help and a
 * usage error, {@code info} against the test device served in this JVM, and, where /dev/kvm is usable,
 * {@code run --guest hello}. Their output is discarded; nothing is left behind (the socket's directory is
 * removed); each has an empty standard input, so that {@code run} starts the console's input pump as from a
 * shell. Exits 1, naming the command, when one of them did not do what it always does.
 */
public final class AotTraining {
    private static final Path KVM = Path.of("/dev/kvm");

    private AotTraining() {}

    public static void main(String[] args) throws IOException {
        expect(0, "--version");
        expect(0, "--help");
        for (String command : List.of("demo", "run", "serve", "info", "dt", "bind", "unbind", "host")) {
            expect(0, command, "--help");
        }
        expect(Jvfio.EXIT_USAGE, "run");
        Path directory = Files.createTempDirectory("jvfio-aot-training");
        Path socket = directory.resolve("test-device.sock");
        try (ModelledDevice device = DeviceCatalog.create(DeviceCatalog.TEST_DEVICE, DeviceOptions.defaults());
                VfioUserServer server = VfioUserServer.start(socket, device)) {
            expect(0, "info", "--socket", socket.toString());
        } finally {
            Files.deleteIfExists(socket);
            Files.delete(directory);
        }
        if (Files.isReadable(KVM) && Files.isWritable(KVM)) {
            expect(0, "run", "--guest", "hello");
        }
    }

    private static void expect(int exitCode, String... args) {
        StringWriter err = new StringWriter();
        int code = Jvfio.execute(
                args, InputStream.nullInputStream(), new PrintWriter(Writer.nullWriter()), new PrintWriter(err, true));
        if (code != exitCode) {
            System.err.println("jvfio " + String.join(" ", args) + ": exit " + code + ", expected " + exitCode + ": "
                    + err.toString().strip());
            System.exit(1);
        }
    }
}
