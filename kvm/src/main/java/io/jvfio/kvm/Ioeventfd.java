package io.jvfio.kvm;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.kvm.KvmAbi;
import io.jvfio.sys.kvm.KvmIoctls;
import java.lang.System.Logger.Level;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One KVM_IOEVENTFD registration on a VM ({@link Vm#registerIoeventfd}): while it lasts, a guest write of
 * {@link #length} bytes at guest-physical {@link #address} (only of the datamatch value, if there is one)
 * signals the eventfd inside KVM instead of exiting to user space. Closing it de-assigns it; the
 * eventfd stays its caller's, and must stay open until then (KVM finds the registration by it).
 */
public final class Ioeventfd implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Ioeventfd.class.getName());

    private final Fd vm;
    private final EventFd event;
    private final long address;
    private final int length;
    private final OptionalLong datamatch;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Ioeventfd(Fd vm, EventFd event, long address, int length, OptionalLong datamatch) {
        this.vm = vm;
        this.event = event;
        this.address = address;
        this.length = length;
        this.datamatch = datamatch;
    }

    static Ioeventfd assign(Fd vm, EventFd event, long address, int length, OptionalLong datamatch)
            throws ErrnoException {
        if (length != 0 && length != 1 && length != 2 && length != 4 && length != 8) {
            throw new IllegalArgumentException("an ioeventfd covers 0 (any), 1, 2, 4 or 8 bytes, not " + length);
        }
        if (datamatch.isPresent() && length == 0) {
            throw new IllegalArgumentException("an ioeventfd with a datamatch needs a length of 1, 2, 4 or 8");
        }
        KvmIoctls.ioeventfd(vm, datamatch.orElse(0), address, length, event.fd().get(), flags(datamatch));
        return new Ioeventfd(vm, event, address, length, datamatch);
    }

    private static int flags(OptionalLong datamatch) {
        return datamatch.isPresent() ? KvmAbi.KVM_IOEVENTFD_FLAG_DATAMATCH : 0;
    }

    public long address() {
        return address;
    }

    public int length() {
        return length;
    }

    public OptionalLong datamatch() {
        return datamatch;
    }

    /**
     * KVM_IOEVENTFD with KVM_IOEVENTFD_FLAG_DEASSIGN, once. A de-assignment KVM refuses is thrown and leaves
     * the registration assigned, as KVM still posts the write; a later call tries again.
     */
    public void deassign() throws ErrnoException {
        if (!closed.compareAndSet(false, true) || !vm.isOpen()) {
            return;
        }
        try {
            KvmIoctls.ioeventfd(
                    vm,
                    datamatch.orElse(0),
                    address,
                    length,
                    event.fd().get(),
                    flags(datamatch) | KvmAbi.KVM_IOEVENTFD_FLAG_DEASSIGN);
        } catch (ErrnoException e) {
            closed.set(false);
            throw e;
        }
    }

    /** {@link #deassign}, whose failure is logged (the VM's close drops the registration anyway). */
    @Override
    public void close() {
        try {
            deassign();
        } catch (ErrnoException | IllegalStateException e) {
            LOG.log(
                    Level.WARNING,
                    "de-assigning the ioeventfd at 0x{0}: {1}",
                    Long.toHexString(address),
                    e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "Ioeventfd[0x" + Long.toHexString(address) + ", " + length + " bytes"
                + (datamatch.isPresent() ? ", datamatch " + datamatch.getAsLong() : "") + "]";
    }
}
