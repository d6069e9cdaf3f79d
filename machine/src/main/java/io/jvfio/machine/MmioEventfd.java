package io.jvfio.machine;

import io.jvfio.kvm.Ioeventfd;
import io.jvfio.kvm.Vm;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import java.util.OptionalLong;

/**
 * A guest MMIO write that KVM turns into an eventfd signal, with no exit to user space: what
 * {@link Machine#registerMmioEventfd} returns, so that a device's posted register (virtio's QueueNotify)
 * reaches its process without a trip through the vCPU thread. It can be switched off for a while, when
 * the write must exit like any other (as a memory slot is switched to trapping: {@link
 * SwitchableRegion}). Closing it de-assigns it; the eventfd stays its caller's and must stay open until
 * then.
 */
public final class MmioEventfd implements AutoCloseable {
    private final Vm vm;
    private final EventFd event;
    private final long address;
    private final int length;
    private final OptionalLong datamatch;
    /** KVM's registration while the write is posted; null while it exits. */
    private Ioeventfd registration;

    private boolean closed;

    MmioEventfd(Vm vm, EventFd event, long address, int length, OptionalLong datamatch) throws ErrnoException {
        this.vm = vm;
        this.event = event;
        this.address = address;
        this.length = length;
        this.datamatch = datamatch;
        this.registration = vm.registerIoeventfd(event, address, length, datamatch);
    }

    public long address() {
        return address;
    }

    /** Whether KVM posts the write now (true) or it exits as MMIO (false). */
    public synchronized boolean enabled() {
        return registration != null;
    }

    /**
     * Posts the write through the eventfd again, or has it exit as MMIO. Either change KVM refuses is
     * thrown and leaves the write as it was, which {@link #enabled} then still says.
     */
    public synchronized void setEnabled(boolean enabled) throws ErrnoException {
        if (closed || enabled == (registration != null)) {
            return;
        }
        if (enabled) {
            registration = vm.registerIoeventfd(event, address, length, datamatch);
        } else {
            registration.deassign();
            registration = null;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (registration != null) {
            registration.close();
            registration = null;
        }
    }

    @Override
    public synchronized String toString() {
        return "MmioEventfd[0x" + Long.toHexString(address) + ", " + length + " bytes"
                + (datamatch.isPresent() ? ", datamatch " + datamatch.getAsLong() : "")
                + (registration == null ? ", exiting" : "") + "]";
    }
}
