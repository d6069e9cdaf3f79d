package io.jvfio.machine;

import io.jvfio.kvm.Ioeventfd;

/**
 * A guest MMIO write that KVM turns into an eventfd signal, with no exit to user space: what
 * {@link Machine#registerMmioEventfd} returns, so that a device's posted register (virtio's QueueNotify)
 * reaches its process without a trip through the vCPU thread. Closing it de-assigns it; the eventfd
 * stays its caller's and must stay open until then.
 */
public final class MmioEventfd implements AutoCloseable {
    private final Ioeventfd registration;

    MmioEventfd(Ioeventfd registration) {
        this.registration = registration;
    }

    public long address() {
        return registration.address();
    }

    @Override
    public void close() {
        registration.close();
    }

    @Override
    public String toString() {
        return registration.toString();
    }
}
