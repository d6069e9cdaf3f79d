package io.jvfio.vfiouser.client;

import io.jvfio.vfio.DeviceGoneException;

/** The server did not answer within the reply timeout; the connection is given up, as for a dead server. */
public final class ReplyTimeoutException extends DeviceGoneException {
    public ReplyTimeoutException(String device, String reason) {
        super(device, reason);
    }
}
