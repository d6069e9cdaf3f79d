package io.jvfio.vfio.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The kernel's part of a bind on a {@link FakeSysfs}: the device's {@code driver_override}, its driver's
 * {@code unbind} and the bus's {@code drivers_probe} become FIFOs that one thread serves in the order a
 * bind uses them, so each effect is in place before the next access can return. The override reads as
 * {@code (null)}; unbinding removes the device's {@code driver} link; the probe links the driver given,
 * or none (a VFIO driver not loaded, or refusing the device), after which the override is expected to be
 * written once more, to undo the bind.
 */
final class FakeKernelBinding {
    /** What was written to the FIFOs, in order: override, unbind (if bound), probe, override again. */
    final List<String> writes = new CopyOnWriteArrayList<>();

    private final Thread thread;

    private FakeKernelBinding(Path root, Path device, String bus, Optional<String> probeBinds) throws Exception {
        Path override = fifo(device.resolve("driver_override"));
        Optional<Path> unbind = Files.isSymbolicLink(device.resolve("driver"))
                ? Optional.of(fifo(device.resolve("driver").toRealPath().resolve("unbind")))
                : Optional.empty();
        Path probe = fifo(root.resolve("bus").resolve(bus).resolve("drivers_probe"));
        Path drivers = root.resolve("bus").resolve(bus).resolve("drivers");
        thread = Thread.ofPlatform().daemon().start(() -> {
            try {
                Files.writeString(override, "(null)\n", StandardCharsets.US_ASCII);
                writes.add(read(override));
                if (unbind.isPresent()) {
                    writes.add(read(unbind.get()));
                    Files.delete(device.resolve("driver"));
                }
                // Bound before the probe's write can return, which the caller's next look follows.
                if (probeBinds.isPresent()) {
                    Path driver = Files.createDirectories(drivers.resolve(probeBinds.get()));
                    Files.createSymbolicLink(device.resolve("driver"), device.relativize(driver));
                }
                writes.add(read(probe));
                if (probeBinds.isEmpty()) {
                    writes.add(read(override));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Starts serving {@code device}, a directory {@link FakeSysfs#device} made. */
    static FakeKernelBinding start(Path root, Path device, String bus, Optional<String> probeBinds) throws Exception {
        return new FakeKernelBinding(root, device, bus, probeBinds);
    }

    /** Waits until every access the bind should make was served. */
    void awaitServed() throws InterruptedException {
        assertThat(thread.join(Duration.ofSeconds(10)))
                .as("the fake kernel saw every access a bind makes; it saw writes %s", writes)
                .isTrue();
    }

    private static String read(Path fifo) throws IOException {
        return new String(Files.readAllBytes(fifo), StandardCharsets.US_ASCII);
    }

    private static Path fifo(Path path) throws Exception {
        Files.deleteIfExists(path);
        Process mkfifo =
                new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertThat(mkfifo.waitFor()).as("mkfifo %s", path).isZero();
        return path;
    }
}
