package io.jvfio.vfiouser.client;

import io.jvfio.sys.Errno;
import io.jvfio.vfio.VfioException;

/** The server answered a request with an error reply; the connection stays usable. */
public final class ErrorReplyException extends VfioException {
    private final int errno;

    public ErrorReplyException(String device, String operation, int errno) {
        super(device, operation + " failed: " + Errno.describe(errno) + " (" + Errno.name(errno) + ")");
        this.errno = errno;
    }

    /** The errno of the error reply (0 if the server gave none). */
    public int errno() {
        return errno;
    }
}
