package io.jvfio.vfiouser.server;

/** A request the server refuses: the errno of the error reply and what was wrong, for the log. */
final class RequestError extends Exception {
    private final int errno;

    RequestError(int errno, String message) {
        super(message, null, false, false);
        this.errno = errno;
    }

    int errno() {
        return errno;
    }
}
