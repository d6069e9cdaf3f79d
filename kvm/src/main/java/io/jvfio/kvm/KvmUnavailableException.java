package io.jvfio.kvm;

import java.io.IOException;

/** /dev/kvm cannot be used: missing, not accessible, or an API version jvfio does not speak. */
public final class KvmUnavailableException extends IOException {
    public KvmUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
