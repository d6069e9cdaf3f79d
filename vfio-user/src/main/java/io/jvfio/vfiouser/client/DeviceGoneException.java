package io.jvfio.vfiouser.client;

import io.jvfio.vfio.VfioException;

/** The server is gone (it closed the connection, died, or broke the protocol): every call now fails. */
public class DeviceGoneException extends VfioException {
    public DeviceGoneException(String device, String reason) {
        super(device, "device is gone: " + reason);
    }
}
