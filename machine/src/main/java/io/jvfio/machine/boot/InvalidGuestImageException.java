package io.jvfio.machine.boot;

import java.io.IOException;

/** A guest image that jvfio will not load, with the reason ("ELF: segment 2 ends beyond the file ..."). */
public final class InvalidGuestImageException extends IOException {
    public InvalidGuestImageException(String message) {
        super(message);
    }
}
