package io.jvfio.vfiouser.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.DeviceGoneException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The link's idle reader on a real socket pair whose server end says nothing. */
class ServerLinkTest {
    @Test
    void anIdleReaderWhosePollFailsMakesTheDeviceGone() throws Exception {
        Set<Thread> threadsBefore = Resources.liveThreads();
        UnixSocket[] pair = UnixSocket.pair();
        CompletableFuture<DeviceGoneException> gone = new CompletableFuture<>();
        try (UnixSocket server = pair[1];
                ServerLink link = new ServerLink(
                        "idle", pair[0], VfioUserDevice.Options.defaults().withReplyTimeout(Duration.ofMillis(200)))) {
            link.onGone(gone::complete);
            link.start();
            // The fd closed without a shutdown, so no hang-up wakes the reader: its next poll fails, and
            // nothing else would ever tell the device that nobody reads the server's messages.
            pair[0].fd().close();

            assertThat(gone.get(10, TimeUnit.SECONDS)).hasMessageContaining("the background reader failed");
            assertThatThrownBy(link::checkUsable)
                    .isInstanceOf(DeviceGoneException.class)
                    .hasMessageContaining("the background reader failed");
        }
        assertThat(Resources.threadsStillAliveAfter(threadsBefore, Duration.ofSeconds(5)))
                .isEmpty();
    }
}
