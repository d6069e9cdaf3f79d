package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.Poller;
import io.jvfio.sys.testing.Resources;
import io.jvfio.sys.testing.Tiers;
import io.jvfio.vfio.DeviceGoneException;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfiouser.client.VfioUserDevice;
import io.jvfio.vfiouser.testing.ProtocolTestModel;
import io.jvfio.vfiouser.testing.TestServerMain;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java client against a Java server in a child JVM, as users run it. */
@Tag(Tiers.PROCESS)
class ChildProcessTest {
    @TempDir
    Path dir;

    private Process child;
    private Path socket;

    @BeforeEach
    void startServer() throws Exception {
        socket = dir.resolve("child.sock");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                TestServerMain.class.getName(),
                socket.toString()));
        child = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
    }

    @AfterEach
    void stopServer() throws Exception {
        if (child.isAlive()) {
            child.getOutputStream().write("quit\n".getBytes(StandardCharsets.UTF_8));
            child.getOutputStream().flush();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
    }

    @Test
    void clientDrivesAServerInAChildJvm() throws Exception {
        int fdsBefore = Resources.openFds();
        try (VfioUserDevice device = VfioUserDevice.connect(socket)) {
            assertThat(device.info().isPlatform()).isTrue();
            assertThat(device.info().regionCount()).isEqualTo(3);
            assertThat(device.deviceTreeIdentity().orElseThrow().compatible()).contains(ProtocolTestModel.COMPATIBLE);

            device.write(0, 0, 8, 0x0123456789ABCDEFL);
            assertThat(device.read(0, 0, 8)).isEqualTo(0x0123456789ABCDEFL);

            try (Mapping shared = device.map(1, 0, 0x2000)) {
                shared.putInt(0x40, 0x5A5A);
                assertThat(device.read(1, 0x40, 4))
                        .as("the server sees the client's store")
                        .isEqualTo(0x5A5A);
                device.write(1, 0x80, 4, 0x6B6B);
                assertThat(shared.getInt(0x80))
                        .as("the client sees the server's store")
                        .isEqualTo(0x6B6B);
            }

            try (EventFd edge = EventFd.create(true);
                    EventFd level = EventFd.create(true);
                    EventFd unmask = EventFd.create(true)) {
                device.setIrqs(IrqSet.trigger(0, 0, Optional.of(edge)));
                device.write(0, 0x08, 4, 1);
                assertThat(Poller.readable(edge.fd(), 5000)).isTrue();
                assertThat(edge.read()).isEqualTo(1);

                device.setIrqs(IrqSet.trigger(1, 0, Optional.of(level)));
                device.setIrqs(IrqSet.unmaskEventFd(1, 0, Optional.of(unmask)));
                device.write(0, 0x10, 4, 1);
                assertThat(Poller.readable(level.fd(), 5000)).isTrue();
                assertThat(level.read()).isEqualTo(1);
                unmask.signal();
                assertThat(Poller.readable(level.fd(), 5000))
                        .as("still asserted: fires again on unmask")
                        .isTrue();
                level.read();
                device.write(0, 0x48, 4, 1);
                device.setIrqs(IrqSet.unmask(1, 0));
                assertThat(Poller.readable(level.fd(), 100)).isFalse();
            }

            try (Fd memory = MemFd.create("guest", 0x2000);
                    Mapping guest = Mapping.map(memory, 0, 0x2000, true, "guest");
                    Mapping private_ = Mapping.anonymous(0x1000, "private guest")) {
                device.mapDma(new DmaRegion(0x10000, 0x2000, guest, 0, memory, 0, true, true));
                device.mapDma(new DmaRegion(0x20000, 0x1000, private_, 0, null, 0, true, true));
                guest.putLong(0x100, 0x0706050403020100L);
                runDmaCopy(device, 0x10100, 8);
                assertThat(guest.getLong(0x108)).isEqualTo(0x0807060504030201L);
                private_.putLong(0x10, 0x1010101010101010L);
                runDmaCopy(device, 0x20010, 8);
                assertThat(private_.getLong(0x18)).isEqualTo(0x1111111111111111L);
                device.unmapDma(0x10000, 0x2000);
                device.unmapDma(0x20000, 0x1000);
            }

            device.reset();
            assertThat(device.read(0, 0, 8)).isZero();
            assertThat(device.read(0, 0x38, 8)).isEqualTo(1);

            measureRoundTrip(device);
        }
        assertThat(Resources.openFds()).isLessThanOrEqualTo(fdsBefore);
    }

    private static void runDmaCopy(VfioUserDevice device, long address, long length) throws Exception {
        device.write(0, 0x20, 8, address);
        device.write(0, 0x28, 8, length);
        device.write(0, 0x30, 4, 1);
    }

    /** Informal: prints the 8-byte REGION_READ round trip to a server in another process. */
    private static void measureRoundTrip(VfioUserDevice device) throws Exception {
        for (int i = 0; i < 20_000; i++) {
            device.read(0, 0, 8);
        }
        int n = 50_000;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            device.read(0, 0, 8);
        }
        double micros = (System.nanoTime() - start) / 1000.0 / n;
        System.out.printf("vfio-user 8-byte REGION_READ round trip, child-process server: %.2f us%n", micros);
    }

    @Test
    void killedServerMakesTheClientFailFastWithAClearError() throws Exception {
        try (VfioUserDevice device = VfioUserDevice.connect(socket)) {
            assertThat(device.read(0, 0x38, 8)).isZero();
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            long start = System.nanoTime();
            assertThatThrownBy(() -> device.read(0, 0, 4))
                    .isInstanceOf(DeviceGoneException.class)
                    .hasMessageContaining(socket.toString())
                    .hasMessageContaining("device is gone");
            assertThatThrownBy(device::info).isInstanceOf(DeviceGoneException.class);
            assertThat(System.nanoTime() - start).isLessThan(2_000_000_000L);
        }
    }
}
