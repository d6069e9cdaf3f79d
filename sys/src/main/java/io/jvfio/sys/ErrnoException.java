package io.jvfio.sys;

import java.io.IOException;

/**
 * A system call failed: carries the call's name and the errno it set, so a user sees
 * {@code KVM_IRQFD failed: Invalid argument (EINVAL)} rather than a bare number.
 */
public class ErrnoException extends IOException {
    private final String operation;
    private final int errno;

    public ErrnoException(String operation, int errno) {
        super(operation + " failed: " + Errno.describe(errno) + " (" + Errno.name(errno) + ")");
        this.operation = operation;
        this.errno = errno;
    }

    /** The failed call, e.g. {@code KVM_RUN} or {@code open /dev/kvm}. */
    public String operation() {
        return operation;
    }

    /** The errno value the call set. */
    public int errno() {
        return errno;
    }
}
