package io.jvfio.vfiouser.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.Errno;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.Payload;
import io.jvfio.vfiouser.testing.ProtocolTestModel;
import io.jvfio.vfiouser.testing.RefusalLog;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request that fails in the server's own code, not in a model callback, is said to be the server's
 * failure. The failure here is an unchecked one of the server's: the IRQ watcher's loop already closed
 * (as while the server closes) when a posted write's eventfd comes to be watched there; in the package,
 * so that the test can close that loop itself.
 */
class ServerFailureTest {
    @TempDir
    Path dir;

    private int nextId = 1;

    @Test
    void aFailureOfTheServersOwnIsEioNamedAsTheServersAndTheConnectionServesOn() throws Exception {
        int fdsBefore = Resources.openFds();
        Path path = dir.resolve("dev.sock");
        try (RefusalLog log = new RefusalLog();
                VfioUserServer server = VfioUserServer.start(path, new ProtocolTestModel());
                Channel channel = new Channel(UnixSocket.connect(path), 1 << 20, 16, 3000)) {
            assertThat(request(channel, Command.VERSION, new Payload.Version(0, 2, Capabilities.defaults()))
                            .isError())
                    .isFalse();
            server.watcher().loop().close();

            Header refused =
                    request(channel, Command.DEVICE_GET_REGION_IO_FDS, new Payload.RegionIoFdsRequest(256, 0, 2, 0));

            assertThat(refused.isError()).isTrue();
            assertThat(refused.error()).isEqualTo(Errno.EIO);
            assertThat(log.refusals()).hasSize(1);
            assertThat(log.lastRefusal())
                    .contains("DEVICE_GET_REGION_IO_FDS #2 refused: the server failed handling "
                            + "DEVICE_GET_REGION_IO_FDS: java.lang.IllegalStateException")
                    .doesNotContain("model");
            assertThat(request(channel, Command.DEVICE_GET_INFO, new Payload.DeviceGetInfo(16, 0, 0, 0))
                            .isError())
                    .as("the connection serves on")
                    .isFalse();
        }
        assertThat(Resources.openFds()).as("fds back to where they were").isLessThanOrEqualTo(fdsBefore);
    }

    private Header request(Channel channel, int command, Payload payload) throws Exception {
        channel.send(nextId++, command, Header.TYPE_COMMAND, 0, payload, new int[0]);
        Channel.Incoming reply = channel.receive();
        assertThat(reply).as("a reply").isNotNull();
        reply.closeFds();
        return reply.header();
    }
}
