package io.jvfio.vfio;

import java.io.IOException;

/** A device operation failed; the message starts {@code vfio NAME: } as QEMU's do. */
public class VfioException extends IOException {
    public VfioException(String device, String message) {
        super("vfio " + device + ": " + message);
    }

    public VfioException(String device, String message, Throwable cause) {
        super("vfio " + device + ": " + message + (cause.getMessage() == null ? "" : ": " + cause.getMessage()), cause);
    }
}
