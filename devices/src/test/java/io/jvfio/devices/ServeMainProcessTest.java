package io.jvfio.devices;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.Poller;
import io.jvfio.sys.testing.Tiers;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ServeMain} in a child JVM, driven through the vfio-user client as users and the CLI drive it. */
@Tag(Tiers.PROCESS)
class ServeMainProcessTest {
    private static final long GUEST_IOVA = 0x4000_0000L;
    private static final long GUEST_SIZE = 0x1_0000;

    @TempDir
    Path directory;

    @Test
    void childProcessServesTheTestDeviceUntilKilled() throws Exception {
        Path socket = directory.resolve("serve.sock");
        Path log = directory.resolve("serve.log");
        Process child = new ProcessBuilder(ServerProcess.javaCommand(
                        List.of(),
                        List.of(
                                ServeMain.class.getName(),
                                "--socket",
                                socket.toString(),
                                "--irqs",
                                "2",
                                "--level-mask",
                                "0x2")))
                .redirectError(log.toFile())
                .start();
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String ready = CompletableFuture.supplyAsync(() -> {
                        try {
                            return out.readLine();
                        } catch (IOException e) {
                            return "read failed: " + e;
                        }
                    })
                    .get(20, TimeUnit.SECONDS);
            assertThat(ready)
                    .as("first line of the child (stderr: %s)", log)
                    .isEqualTo("serving test-device on " + socket);

            try (VfioUserDevice device = VfioUserDevice.connect(socket);
                    EventFd trigger = EventFd.create(true);
                    Fd guestFd = MemFd.create("guest", GUEST_SIZE);
                    Mapping guest = Mapping.map(guestFd, 0, GUEST_SIZE, true, "child test guest")) {
                assertThat(device.read(REGS_REGION, ID, 4)).isEqualTo(ID_VALUE);
                assertThat(device.read(REGS_REGION, IRQ_COUNT, 4)).isEqualTo(2);

                device.setIrqs(IrqSet.trigger(0, 0, Optional.of(trigger)));
                device.write(REGS_REGION, RAISE, 4, 1);
                assertThat(Poller.readable(trigger.fd(), 5000))
                        .as("line 0 signalled")
                        .isTrue();
                assertThat(trigger.drain()).isEqualTo(1);

                guest.putLong(0x80, 0x0123_4567_89AB_CDEFL);
                device.mapDma(new DmaRegion(GUEST_IOVA, GUEST_SIZE, guest, 0, guestFd, 0, true, true));
                device.write(REGS_REGION, DMA_SRC, 8, GUEST_IOVA + 0x80);
                device.write(REGS_REGION, DMA_DST, 8, GUEST_IOVA + 0x100);
                device.write(REGS_REGION, DMA_LEN, 4, 8);
                device.write(REGS_REGION, DMA_CTRL, 4, dmaStartRaising(0, 0));
                assertThat(device.read(REGS_REGION, DMA_STATUS, 4)).isEqualTo(DMA_DONE);
                assertThat(guest.getLong(0x100)).isEqualTo(0x0123_4567_89AB_CDEFL);
                assertThat(Poller.readable(trigger.fd(), 5000))
                        .as("DMA completion signalled")
                        .isTrue();
                device.unmapDma(GUEST_IOVA, GUEST_SIZE);
            }

            child.destroy();
            assertThat(child.waitFor(10, TimeUnit.SECONDS))
                    .as("child exits after SIGTERM")
                    .isTrue();
            assertThat(Files.exists(socket)).as("socket file removed").isFalse();
        } finally {
            child.destroyForcibly();
            child.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void badArgumentExitsTwoWithOneLine() throws Exception {
        Process child = new ProcessBuilder(ServerProcess.javaCommand(
                        List.of(),
                        List.of(
                                ServeMain.class.getName(),
                                "--socket",
                                directory.resolve("x.sock").toString(),
                                "--irqs",
                                "12")))
                .redirectErrorStream(true)
                .start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).isEqualTo(2);
        assertThat(output.lines().toList()).hasSize(1).first().asString().contains("--irqs");
    }
}
