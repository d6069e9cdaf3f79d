package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.UnixSocket;
import java.nio.ByteBuffer;
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
