package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.UnixSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ReplyPollingTest {
    private static final long START = ReplyPolling.START_NANOS;

    private Channel channel;
    private Channel peer;

    @Test
    void aWaitWithinTheMaximumWidensTheWindowToCoverItAndLongerWaitsHalveItUntilItCloses() {
        ReplyPolling polling = ReplyPolling.upTo(Duration.ofMillis(1), 2);
        assertThat(window(polling)).as("closed until a wait was seen").isZero();
        polling.blockedFor(1_000);
        assertThat(window(polling)).as("a short wait opens the first window").isEqualTo(START);
        polling.blockedFor(400_000);
        assertThat(window(polling)).as("the wait and a quarter").isEqualTo(500_000);
        polling.blockedFor(900_000);
        assertThat(window(polling)).as("never beyond the maximum").isEqualTo(1_000_000);
        polling.blockedFor(5_000_000);
        assertThat(window(polling)).isEqualTo(500_000);
        for (int i = 0; i < 6; i++) {
            polling.blockedFor(5_000_000);
        }
        assertThat(window(polling)).as("halved below the first window: closed").isZero();
        polling.blockedFor(5_000_000);
        assertThat(window(polling)).isZero();
    }

    @Test
    void oneCpuOrAZeroMaximumNeverPolls() {
        assertThat(ReplyPolling.upTo(Duration.ofMillis(1), 1).max()).isZero();
        assertThat(ReplyPolling.upTo(Duration.ZERO, 8).max()).isZero();
        assertThat(ReplyPolling.upTo(Duration.ofMillis(1), 2).max()).isEqualTo(Duration.ofMillis(1));
        assertThatThrownBy(() -> ReplyPolling.upTo(Duration.ofNanos(-1), 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a reply polling window cannot be negative: PT-0.000000001S");
    }

    @BeforeEach
    void connect() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        channel = new Channel(pair[0], 4096, 1, 1000);
        peer = new Channel(pair[1], 4096, 1, 1000);
    }

    @AfterEach
    void close() {
        channel.close();
        peer.close();
    }

    @Test
    void aReplyWaitingWhenTheWindowIsOpenIsFoundByAPoll() throws Exception {
        ReplyPolling polling = opened(Duration.ofSeconds(1));
        reply(peer, 2);
        assertThat(polling.receiveWithoutFds(channel).header().msgId()).isEqualTo(2);
        assertThat(polling.stats().polled()).isEqualTo(1);
        assertThat(polling.stats().blocked()).isZero();
        assertThat(window(polling)).as("a reply within the window keeps it").isEqualTo(START);
    }

    @Test
    void aReplyWaitingWhenTheWindowIsClosedIsTakenByThePollAndLeavesItClosed() throws Exception {
        ReplyPolling polling = ReplyPolling.upTo(Duration.ofSeconds(1), 2);
        reply(peer, 1);
        assertThat(polling.receiveWithoutFds(channel).header().msgId()).isEqualTo(1);
        assertThat(polling.stats().polled()).isEqualTo(1);
        assertThat(polling.stats().blocked()).isZero();
        assertThat(window(polling)).as("nothing was waited for").isZero();
    }

    @Test
    void aReplyThatKeepsAClosedWindowWaitingWithinTheMaximumOpensIt() throws Exception {
        ReplyPolling polling = ReplyPolling.upTo(Duration.ofSeconds(1), 2);
        Thread later = replyAfter(20, 1);
        assertThat(polling.receiveWithoutFds(channel).header().msgId()).isEqualTo(1);
        later.join();
        assertThat(polling.stats().polled()).isZero();
        assertThat(polling.stats().blocked()).isEqualTo(1);
        assertThat(window(polling))
                .as("the wait of at least 20 ms and a quarter")
                .isBetween(
                        Duration.ofMillis(25).toNanos(), Duration.ofSeconds(1).toNanos());
    }

    @Test
    void aReplyLaterThanTheMaximumIsReceivedBlockedAndHalvesTheWindow() throws Exception {
        ReplyPolling polling = opened(Duration.ofMillis(2));
        polling.blockedFor(1_000_000);
        long opened = window(polling);
        assertThat(opened).isEqualTo(1_250_000);
        Thread late = replyAfter(50, 2);
        assertThat(polling.receiveWithoutFds(channel).header().msgId()).isEqualTo(2);
        late.join();
        assertThat(polling.stats().polled()).isZero();
        assertThat(polling.stats().blocked()).isEqualTo(1);
        assertThat(window(polling)).as("halved").isEqualTo(opened / 2);
    }

    @Test
    void aPeerThatClosesEndsThePollAndTheReceiveSeesTheEndOfTheStream() throws Exception {
        ReplyPolling polling = opened(Duration.ofSeconds(1));
        peer.shutdown();
        assertThat(polling.receiveWithoutFds(channel)).isNull();
        assertThat(polling.stats().polled()).isEqualTo(1);
    }

    /** Polling whose window a short wait opened. */
    private static ReplyPolling opened(Duration max) {
        ReplyPolling polling = ReplyPolling.upTo(max, 2);
        polling.blockedFor(1_000);
        assertThat(window(polling)).isEqualTo(START);
        return polling;
    }

    /** A reply to message {@code msgId} from another thread, {@code millis} after the receive began. */
    private Thread replyAfter(long millis, int msgId) {
        return Thread.ofPlatform().start(() -> {
            try {
                TimeUnit.MILLISECONDS.sleep(millis);
                reply(peer, msgId);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    private static long window(ReplyPolling polling) {
        return polling.stats().window().toNanos();
    }

    private static void reply(Channel peer, int msgId) throws Exception {
        peer.send(
                msgId,
                Command.REGION_READ,
                Header.TYPE_REPLY,
                0,
                Payload.RegionAccess.withData(0, 0, Bytes.copyOf(new byte[] {(byte) msgId})),
                new int[0]);
    }
}
