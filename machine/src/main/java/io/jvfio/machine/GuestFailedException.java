package io.jvfio.machine;

import java.io.IOException;

/** The guest stopped without writing an exit code (triple fault, emulation failure, ...); the message ends with its console. */
public final class GuestFailedException extends IOException {
    private final String reason;

    public GuestFailedException(String reason, String console) {
        super("guest failed: " + reason + (console.isEmpty() ? "" : "; console so far:\n" + console));
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
