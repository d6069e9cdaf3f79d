package io.jvfio.platform.config;

/** A malformed {@code -device} string or property value; the message names what was wrong. */
public class DeviceSpecException extends IllegalArgumentException {
    public DeviceSpecException(String message) {
        super(message);
    }
}
