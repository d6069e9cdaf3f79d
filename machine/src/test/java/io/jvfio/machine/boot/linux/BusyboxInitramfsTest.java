package io.jvfio.machine.boot.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The initramfs as another reader of newc sees it: busybox's own {@code cpio -i} unpacks the image into a
 * directory, where every entry must be what the builder was asked for, with its mode.
 */
class BusyboxInitramfsTest {
    private static final String INIT = "#!/bin/busybox sh\n/bin/busybox poweroff -f\n";

    @TempDir
    Path directory;

    @Test
    void busyboxCpioUnpacksTheInitTheBusyboxAndTheAddedFilesWithTheirModesAndParents() throws Exception {
        Assumptions.assumeTrue(BusyboxInitramfs.available(), "no " + BusyboxInitramfs.BUSYBOX);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("modules/virtio.ko", new byte[] {0x7f, 'E', 'L', 'F', 1});
        files.put("modules/deeper/odd-length.ko", new byte[] {1, 2, 3});
        files.put("etc/empty", new byte[0]);

        Path root = unpack(BusyboxInitramfs.withInit(INIT, files));

        assertThat(root.resolve("init")).hasContent(INIT);
        assertThat(mode(root.resolve("init"))).isEqualTo("rwxr-xr-x");
        assertThat(Files.readAllBytes(root.resolve("bin/busybox")))
                .isEqualTo(Files.readAllBytes(BusyboxInitramfs.BUSYBOX));
        assertThat(mode(root.resolve("bin/busybox"))).isEqualTo("rwxr-xr-x");
        assertThat(root.resolve("dev")).isEmptyDirectory();
        assertThat(root.resolve("proc")).isEmptyDirectory();
        for (var file : files.entrySet()) {
            Path unpacked = root.resolve(file.getKey());
            assertThat(Files.readAllBytes(unpacked)).as(file.getKey()).isEqualTo(file.getValue());
            assertThat(mode(unpacked)).as(file.getKey()).isEqualTo("rw-r--r--");
        }
        assertThat(mode(root.resolve("modules/deeper"))).isEqualTo("rwxr-xr-x");
    }

    /** The image unpacked by {@code busybox cpio -i -d} in a directory of its own. */
    private Path unpack(byte[] image) throws Exception {
        Path archive = Files.write(directory.resolve("initramfs.cpio"), image);
        Path root = Files.createDirectory(directory.resolve("root"));
        Process cpio = new ProcessBuilder(BusyboxInitramfs.BUSYBOX.toString(), "cpio", "-i", "-d")
                .directory(root.toFile())
                .redirectInput(archive.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(cpio.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(cpio.waitFor(60, TimeUnit.SECONDS))
                .as("busybox cpio finished")
                .isTrue();
        assertThat(cpio.exitValue()).as(output).isZero();
        return root;
    }

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }
}
