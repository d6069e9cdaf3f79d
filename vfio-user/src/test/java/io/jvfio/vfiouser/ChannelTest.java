package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChannelTest {
    @Test
    void peerClosingInTheMiddleOfAMessageIsPeerClosedNotAnErrno() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (Channel channel = new Channel(pair[0], 4096, 1, 1000);
                UnixSocket peer = pair[1]) {
            ByteBuffer half = ByteBuffer.allocateDirect(Header.SIZE + 4).order(Codec.ORDER);
            Header.command(9, Command.REGION_READ, Header.SIZE + Payload.RegionAccess.SIZE)
                    .encodeTo(half);
            half.putInt(0).flip();
            peer.send(new ByteBuffer[] {half}, new int[0]);
            peer.shutdown();
            assertThatThrownBy(channel::receive)
                    .isInstanceOf(PeerClosedException.class)
                    .hasMessageContaining("in the middle of a message, after 20 bytes");
        }
    }

    /**
     * A peer that sends a header and then one byte every 100 ms: the partial timeout (500 ms) bounds the
     * whole rest of the message, not each wait for its next byte, so the receive ends within it.
     */
    @Test
    void aPeerTricklingTheRestOfAMessageIsCutOffAtThePartialTimeout() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (Channel channel = new Channel(pair[0], 4096, 1, 500);
                UnixSocket peer = pair[1]) {
            ByteBuffer header = ByteBuffer.allocateDirect(Header.SIZE).order(Codec.ORDER);
            Header.command(9, Command.REGION_READ, Header.SIZE + 100).encodeTo(header);
            header.flip();
            peer.send(new ByteBuffer[] {header}, new int[0]);
            Thread trickler = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 50; i++) {
                        Thread.sleep(100);
                        peer.send(new ByteBuffer[] {ByteBuffer.allocateDirect(1)}, new int[0]);
                    }
                } catch (Exception e) {
                    // the channel gave up and the test closed the socket: the trickle ends
                }
            });
            long start = System.nanoTime();
            assertThatThrownBy(channel::receive)
                    .isInstanceOf(FramingException.class)
                    .hasMessageContaining("arrived within 500 ms");
            assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(3));
            peer.shutdown();
            trickler.join();
        }
    }

    /** A send that comes after the channel closed (a DMA racing the connection's end) fails as I/O does. */
    @Test
    void aSendAfterCloseIsAnEpipeNotAnUncheckedError() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket peer = pair[1]) {
            Channel channel = new Channel(pair[0], 4096, 1, 1000);
            channel.close();
            assertThatThrownBy(() -> channel.sendError(1, Command.DMA_READ, Errno.EINVAL))
                    .isInstanceOf(ErrnoException.class)
                    .hasMessageContaining("EPIPE");
        }
    }

    @Test
    void aReceiveWithoutFdsDecodesMessagesAndLeavesFdsAPeerAttachedToTheKernel() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (Channel channel = new Channel(pair[0], 4096, 1, 1000);
                Channel peer = new Channel(pair[1], 4096, 1, 1000);
                EventFd attached = EventFd.create()) {
            Payload.RegionAccess first = Payload.RegionAccess.withData(0x10, 2, Bytes.copyOf(new byte[] {1, 2, 3, 4}));
            Payload.RegionAccess second = Payload.RegionAccess.withData(0x20, 2, Bytes.copyOf(new byte[] {5, 6}));
            peer.send(7, Command.REGION_READ, Header.TYPE_REPLY, 0, first, new int[] {
                attached.fd().get()
            });
            peer.send(8, Command.REGION_READ, Header.TYPE_REPLY, 0, second, new int[0]);
            int before = Resources.openFds();
            Channel.Incoming one = channel.receiveWithoutFds();
            Channel.Incoming two = channel.receiveWithoutFds();
            assertThat(Resources.openFds())
                    .as("the attached fd was not installed")
                    .isEqualTo(before);
            assertThat(one.header().msgId()).isEqualTo(7);
            assertThat(one.fds()).isEmpty();
            assertThat(((Payload.RegionAccess) one.payload()).data().toArray()).containsExactly(1, 2, 3, 4);
            assertThat(two.header().msgId()).isEqualTo(8);
            assertThat(((Payload.RegionAccess) two.payload()).data().toArray()).containsExactly(5, 6);
        }
    }

    @Test
    void peerClosingBetweenMessagesIsTheEndOfTheStream() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (Channel channel = new Channel(pair[0], 4096, 1, 1000);
                UnixSocket peer = pair[1]) {
            peer.shutdown();
            assertThat(channel.receive()).isNull();
        }
    }
}
