package io.jvfio.kvm;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.kvm.KvmIoctls;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A registered coalesced MMIO zone of a {@link Vm} (KVM_REGISTER_COALESCED_MMIO): guest writes inside it
 * are queued in the ring of {@link Vcpu#coalescedMmioRing} instead of exiting. Closing it unregisters the
 * zone (KVM_UNREGISTER_COALESCED_MMIO), once; a VM closed first has dropped it already.
 */
public final class CoalescedMmioZone implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CoalescedMmioZone.class.getName());

    private final Fd vm;
    private final long address;
    private final int size;
    private final AtomicBoolean closed = new AtomicBoolean();

    CoalescedMmioZone(Fd vm, long address, int size) {
        this.vm = vm;
        this.address = address;
        this.size = size;
    }

    public long address() {
        return address;
    }

    public int size() {
        return size;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true) || !vm.isOpen()) {
            return;
        }
        try {
            KvmIoctls.coalescedMmio(vm, address, size, false);
        } catch (ErrnoException | IllegalStateException e) {
            // IllegalStateException: the VM's fd was closed after the check above, which drops the zone anyway
            LOG.log(System.Logger.Level.WARNING, "unregistering " + this + ": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "coalesced MMIO zone 0x" + Long.toHexString(address) + "+" + size;
    }
}
