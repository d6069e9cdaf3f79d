package io.jvfio.vfiouser;

import java.io.IOException;

/** The peer did not answer a request in time (it stayed silent, or kept sending requests of its own instead). */
public final class NoReplyException extends IOException {
    public NoReplyException(String message) {
        super(message);
    }
}
