package io.jvfio.vfiouser;

import io.jvfio.sys.Errno;
import java.io.IOException;

/**
 * A vfio-user message is malformed: a length, count, offset or field does not fit. Carries the errno
 * that the error reply to the peer names ({@code EINVAL} unless said otherwise). The codec throws
 * nothing else for bad input.
 */
public class ProtocolException extends IOException {
    private final int errno;

    public ProtocolException(String message) {
        this(message, Errno.EINVAL);
    }

    public ProtocolException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The errno an error reply carries for this problem. */
    public int errno() {
        return errno;
    }
}
