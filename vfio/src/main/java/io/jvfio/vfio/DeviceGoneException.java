package io.jvfio.vfio;

/**
 * The device is gone: its backend can no longer reach it (a vfio-user server closed the connection, died, or
 * broke the protocol), and every call now fails. Callers treat the device as absent hardware.
 */
public class DeviceGoneException extends VfioException {
    public DeviceGoneException(String device, String reason) {
        super(device, "device is gone: " + reason);
    }
}
