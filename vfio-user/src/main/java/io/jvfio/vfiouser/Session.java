package io.jvfio.vfiouser;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One side's requests on a vfio-user channel whose receive times out by itself (a socket receive
 * timeout, or a watcher that shuts the channel down): sends a request and reads the channel until its
 * reply, handing each request of the peer that arrives meanwhile to the side's {@link PeerRequests}.
 * The client uses it for every request it makes (and answers the server's DMA requests at once), the
 * server for its DMA_READ / DMA_WRITE on the twin socket (where it refuses the client's requests). On
 * the server's main socket, where DMA replies come among the client's requests, the server's
 * connection reads them itself.
 *
 * <p>One call at a time per channel: the caller serialises them. Message ids are taken from any thread.
 */
public final class Session {
    private final Channel channel;
    private final Duration replyTimeout;
    private final PeerRequests peerRequests;
    private final OtherReplies otherReplies;
    private final ReplyPolling replyPolling;
    private final AtomicInteger nextMsgId = new AtomicInteger(1);

    /**
     * A request and what to call it in messages. {@code what} is null for the requests of the hot path
     * (REGION_READ / REGION_WRITE), whose description is built from the payload only when needed.
     * {@code fdsMayArrive} says whether a message that arrives while the call waits may carry fds;
     * where none can, the channel reads with recv(2) instead of recvmsg(2).
     */
    public record Call(int command, Payload payload, int[] fds, String what, boolean fdsMayArrive) {
        private static final int[] NO_FDS = new int[0];

        public Call(int command, Payload payload, int[] fds, String what) {
            this(command, payload, fds, what, true);
        }

        public static Call of(int command, Payload payload, String what) {
            return new Call(command, payload, NO_FDS, what);
        }

        /**
         * A client's REGION_READ or REGION_WRITE. A server sends fds only with its replies to requests
         * that ask for them, and the client makes one call at a time, so nothing that arrives while a
         * region access waits carries fds (should a server attach some anyway, the kernel closes them,
         * as the client would).
         */
        public static Call regionAccess(int command, Payload.RegionAccess access) {
            return new Call(command, access, NO_FDS, null, false);
        }

        /** What the request is, for messages: {@code what}, or built from a region access payload. */
        public String describe() {
            if (what != null) {
                return what;
            }
            if (payload instanceof Payload.RegionAccess access) {
                return Command.name(command) + " of " + Integer.toUnsignedString(access.count()) + " bytes at 0x"
                        + Long.toHexString(access.offset()) + " of region " + access.region();
            }
            if (payload instanceof Payload.DmaAccess access) {
                return Command.name(command) + " of " + access.count() + " bytes at 0x"
                        + Long.toHexString(access.address());
            }
            return Command.name(command);
        }
    }

    /** Takes a request of the peer that arrived while a call waited for its reply. */
    @FunctionalInterface
    public interface PeerRequests {
        void arrived(Channel.Incoming request) throws IOException;
    }

    /** Takes a reply that is not the one a call waits for (stale, or another thread's). */
    @FunctionalInterface
    public interface OtherReplies {
        void arrived(Channel.Incoming reply) throws IOException;
    }

    /**
     * @param replyTimeout how long a call waits for its reply: what ends a receive that waits longer, the
     *     socket's receive timeout (a silent peer ends the read with EAGAIN) or a watcher that shuts the
     *     channel down, is the caller's to set up
     * @param peerRequests takes the peer's requests that arrive while a call waits
     * @param otherReplies takes the replies that arrive while a call waits and are not its own
     * @param replyPolling how a call that gets no fds polls for its reply before it blocks
     */
    public Session(
            Channel channel,
            Duration replyTimeout,
            PeerRequests peerRequests,
            OtherReplies otherReplies,
            ReplyPolling replyPolling) {
        this.channel = channel;
        this.replyTimeout = replyTimeout;
        this.peerRequests = peerRequests;
        this.otherReplies = otherReplies;
        this.replyPolling = replyPolling;
    }

    public Channel channel() {
        return channel;
    }

    public Duration replyTimeout() {
        return replyTimeout;
    }

    /** A message id for a request of this side (they wrap at 0xFFFF). */
    public int newMsgId() {
        return nextMsgId.getAndIncrement() & 0xFFFF;
    }

    /**
     * Sends {@code call} and reads until its reply, which it returns with its fds (the caller's now),
     * error replies included. A peer that keeps sending requests instead of the reply gets the reply
     * timeout too, from its first request: the usual exchange reads no clock.
     *
     * @throws NoReplyException when the reply did not come in time
     * @throws PeerClosedException when the peer closed the connection first
     * @throws FramingException when the peer sent a malformed message
     * @throws ErrnoException when sending or receiving failed
     */
    public Channel.Incoming call(Call call) throws IOException {
        int msgId = newMsgId();
        channel.send(msgId, call.command(), Header.TYPE_COMMAND, 0, call.payload(), call.fds());
        // set at the first message that is not the reply: the usual exchange reads no clock
        long deadline = 0;
        while (true) {
            Channel.Incoming incoming;
            try {
                incoming = call.fdsMayArrive() ? channel.receive() : replyPolling.receiveWithoutFds(channel);
            } catch (ErrnoException e) {
                if (e.errno() == Errno.EAGAIN) {
                    throw noReply(call);
                }
                throw e;
            }
            if (incoming == null) {
                throw new PeerClosedException(
                        "the peer closed the connection while " + call.describe() + " waited for its reply");
            }
            Header header = incoming.header();
            if (header.isReply() && header.msgId() == msgId && header.command() == call.command()) {
                return incoming;
            }
            if (deadline == 0) {
                deadline = System.nanoTime() + replyTimeout.toNanos();
            }
            if (header.isReply()) {
                otherReplies.arrived(incoming);
            } else {
                peerRequests.arrived(incoming);
            }
            if (System.nanoTime() - deadline > 0) {
                throw noReply(call);
            }
        }
    }

    private NoReplyException noReply(Call call) {
        return new NoReplyException("no reply to " + call.describe() + " within " + replyTimeout.toMillis() + " ms");
    }
}
