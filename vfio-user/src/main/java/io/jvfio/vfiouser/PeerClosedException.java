package io.jvfio.vfiouser;

import java.io.IOException;

/** The peer closed its end of the connection while this side still needed it: waiting for a reply, or mid-message. */
public final class PeerClosedException extends IOException {
    public PeerClosedException(String message) {
        super(message);
    }
}
