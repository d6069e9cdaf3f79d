package io.jvfio.kvm;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.IrqRoute;
import io.jvfio.sys.kvm.KvmAbi;
import io.jvfio.sys.kvm.KvmIoctls;
import io.jvfio.sys.kvm.KvmRunView;
import io.jvfio.sys.kvm.MemoryRegion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * A KVM virtual machine: memory slots, the in-kernel irqchip and its GSI routing, interrupt injection
 * (KVM_IRQ_LINE, irqfd with optional resample), ioeventfds, and the vCPUs it created. Closing it closes
 * its vCPUs (newest first), deletes its memory slots and then closes the VM fd; the memory behind the
 * slots belongs to the caller and must outlive this object.
 */
public final class Vm implements AutoCloseable {
    /** IOAPIC pins of KVM's in-kernel IOAPIC. */
    public static final int IOAPIC_PINS = KvmAbi.kvm_ioapic_state.KVM_IOAPIC_NUM_PINS;
    /** Redirection entry bit 14 (read-only to the guest): a level interrupt was delivered and awaits EOI. */
    public static final long IOAPIC_REMOTE_IRR = 1L << 14;
    /** Redirection entry bit 15: the pin is level-triggered (clear: edge). */
    public static final long IOAPIC_LEVEL_TRIGGERED = 1L << 15;

    private final Kvm kvm;
    private final Fd fd;
    private final Map<Integer, MemoryRegion> slots = new TreeMap<>();
    private final List<Vcpu> vcpus = new ArrayList<>();

    Vm(Kvm kvm, Fd fd) {
        this.kvm = kvm;
        this.fd = fd;
    }

    /** The VM's fd, for this package's tests that change KVM's state behind a registration's back. */
    Fd fd() {
        return fd;
    }

    /** KVM_CHECK_EXTENSION on this VM (some capabilities are per VM), as a yes/no. */
    public boolean hasCapability(Cap capability) throws ErrnoException {
        return KvmIoctls.checkExtension(fd, capability.number()) > 0;
    }

    /**
     * KVM_SET_USER_MEMORY_REGION: maps {@code size} bytes of {@code memory} from {@code offset} at
     * guest-physical {@code guestAddress} as slot {@code slot} (replacing that slot's mapping if it exists:
     * KVM refuses to change a live slot's size or address, so it is deleted first).
     */
    public synchronized void setMemorySlot(
            int slot, long guestAddress, Mapping memory, long offset, long size, boolean readOnly)
            throws ErrnoException {
        if (offset < 0 || size <= 0 || size > memory.size() - offset) {
            throw new IllegalArgumentException(
                    "slot " + slot + ": " + size + " bytes at offset " + offset + " do not fit " + memory);
        }
        MemoryRegion region = new MemoryRegion(
                slot, readOnly ? KvmAbi.KVM_MEM_READONLY : 0, guestAddress, size, memory.address() + offset);
        MemoryRegion old = slots.get(slot);
        if (old != null
                && (old.guestPhysAddr() != guestAddress
                        || old.memorySize() != size
                        || old.userspaceAddr() != region.userspaceAddr()
                        || old.flags() != region.flags())) {
            removeMemorySlot(slot);
        }
        KvmIoctls.setUserMemoryRegion(fd, region);
        slots.put(slot, region);
    }

    /** KVM_SET_USER_MEMORY_REGION for a whole mapping. */
    public void addMemorySlot(int slot, long guestAddress, Mapping memory) throws ErrnoException {
        setMemorySlot(slot, guestAddress, memory, 0, memory.size(), false);
    }

    /** KVM_SET_USER_MEMORY_REGION with size 0: deletes a slot (nothing if it does not exist). */
    public synchronized void removeMemorySlot(int slot) throws ErrnoException {
        MemoryRegion old = slots.remove(slot);
        if (old != null) {
            KvmIoctls.setUserMemoryRegion(
                    fd, new MemoryRegion(slot, old.flags(), old.guestPhysAddr(), 0, old.userspaceAddr()));
        }
    }

    /** KVM_SET_USER_MEMORY_REGION: the same slot, address and memory with a new size (within its mapping). */
    public synchronized void resizeMemorySlot(int slot, long newSize) throws ErrnoException {
        MemoryRegion old = slots.get(slot);
        if (old == null) {
            throw new IllegalArgumentException("no memory slot " + slot);
        }
        removeMemorySlot(slot);
        MemoryRegion resized = new MemoryRegion(slot, old.flags(), old.guestPhysAddr(), newSize, old.userspaceAddr());
        KvmIoctls.setUserMemoryRegion(fd, resized);
        slots.put(slot, resized);
    }

    /** The live memory slots by id. */
    public synchronized Map<Integer, MemoryRegion> memorySlots() {
        return Map.copyOf(slots);
    }

    /** KVM_SET_TSS_ADDR: three pages of guest-physical space that must not overlap RAM or MMIO. */
    public void setTssAddress(long address) throws ErrnoException {
        KvmIoctls.setTssAddr(fd, address);
    }

    /** KVM_SET_IDENTITY_MAP_ADDR: one page, below the TSS pages by convention. */
    public void setIdentityMapAddress(long address) throws ErrnoException {
        KvmIoctls.setIdentityMapAddr(fd, address);
    }

    /** KVM_CREATE_IRQCHIP: PIC, IOAPIC (24 pins at 0xFEC00000) and per-vCPU LAPICs (0xFEE00000). */
    public void createIrqchip() throws ErrnoException {
        KvmIoctls.createIrqchip(fd);
    }

    /** KVM_SET_GSI_ROUTING: replaces the routing table. */
    public void setGsiRouting(List<IrqRoute> routes) throws ErrnoException {
        KvmIoctls.setGsiRouting(fd, routes);
    }

    /** KVM_SET_GSI_ROUTING: GSI n drives IOAPIC pin n for every pin, and nothing drives the PIC. */
    public void routeGsisToIoapicPins() throws ErrnoException {
        List<IrqRoute> routes = new ArrayList<>(IOAPIC_PINS);
        for (int pin = 0; pin < IOAPIC_PINS; pin++) {
            routes.add(new IrqRoute(pin, KvmAbi.KVM_IRQCHIP_IOAPIC, pin));
        }
        setGsiRouting(routes);
    }

    /** KVM_IRQ_LINE: sets a GSI's level. */
    public void setIrqLine(int gsi, boolean level) throws ErrnoException {
        KvmIoctls.irqLine(fd, gsi, level ? 1 : 0);
    }

    /** KVM_IRQFD: each signal of {@code trigger} pulses {@code gsi} (an edge). */
    public void registerIrqfd(EventFd trigger, int gsi) throws ErrnoException {
        KvmIoctls.irqfd(fd, trigger.fd().get(), gsi, 0, 0);
    }

    /**
     * KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE: {@code trigger} raises {@code gsi} as a level, and when the
     * guest EOIs it KVM lowers the line and signals {@code resample} (so the device can re-assert).
     */
    public void registerIrqfd(EventFd trigger, int gsi, EventFd resample) throws ErrnoException {
        KvmIoctls.irqfd(
                fd,
                trigger.fd().get(),
                gsi,
                KvmAbi.KVM_IRQFD_FLAG_RESAMPLE,
                resample.fd().get());
    }

    /** KVM_IRQFD with KVM_IRQFD_FLAG_DEASSIGN. */
    public void unregisterIrqfd(EventFd trigger, int gsi) throws ErrnoException {
        KvmIoctls.irqfd(fd, trigger.fd().get(), gsi, KvmAbi.KVM_IRQFD_FLAG_DEASSIGN, 0);
    }

    /**
     * KVM_IOEVENTFD: from now on a guest write of {@code length} bytes (0: any) at guest-physical
     * {@code address}, of the value {@code datamatch} if one is given, signals {@code event} inside KVM
     * with no exit to user space. Closing the result de-assigns it; {@code event} stays the caller's.
     */
    public Ioeventfd registerIoeventfd(EventFd event, long address, int length, OptionalLong datamatch)
            throws ErrnoException {
        return Ioeventfd.assign(fd, event, address, length, datamatch);
    }

    /** KVM_GET_IRQCHIP: IOAPIC redirection table entry {@code pin} (64 bits: vector, mode, mask, ...). */
    public long ioapicRedirectionEntry(int pin) throws ErrnoException {
        int at = redirectionEntryOffset(pin);
        byte[] chip = KvmIoctls.getIrqchip(fd, KvmAbi.KVM_IRQCHIP_IOAPIC);
        long value = 0;
        for (int i = 7; i >= 0; i--) {
            value = value << 8 | Byte.toUnsignedLong(chip[at + i]);
        }
        return value;
    }

    /**
     * KVM_GET_IRQCHIP then KVM_SET_IRQCHIP: sets IOAPIC redirection table entry {@code pin}, as a guest
     * would program it. The whole IOAPIC state is written back as read, so call it while no interrupt is in
     * flight through the IOAPIC (when setting a VM up).
     */
    public void setIoapicRedirectionEntry(int pin, long entry) throws ErrnoException {
        int at = redirectionEntryOffset(pin);
        byte[] chip = KvmIoctls.getIrqchip(fd, KvmAbi.KVM_IRQCHIP_IOAPIC);
        for (int i = 0; i < 8; i++) {
            chip[at + i] = (byte) (entry >>> (8 * i));
        }
        KvmIoctls.setIrqchip(fd, KvmAbi.KVM_IRQCHIP_IOAPIC, chip);
    }

    /**
     * KVM_GET_IRQCHIP: the remote IRR bit of IOAPIC pin {@code pin}, which documented KVM sets when it
     * delivers a level interrupt and clears at the guest's EOI (no new interrupt from the pin until then).
     */
    public boolean ioapicRemoteIrr(int pin) throws ErrnoException {
        return (ioapicRedirectionEntry(pin) & IOAPIC_REMOTE_IRR) != 0;
    }

    private static int redirectionEntryOffset(int pin) {
        if (pin < 0 || pin >= IOAPIC_PINS) {
            throw new IllegalArgumentException("IOAPIC pin " + pin + " is not 0.." + (IOAPIC_PINS - 1));
        }
        return KvmAbi.kvm_ioapic_state.redirtbl + pin * 8;
    }

    /**
     * KVM_SIGNAL_MSI: delivers one message signalled interrupt ({@code address} 0xFEExxxxx selects the
     * LAPIC, the low byte of {@code data} is the vector); true when delivered, false when the guest blocked it.
     */
    public boolean signalMsi(long address, int data) throws ErrnoException {
        return KvmIoctls.signalMsi(fd, address, data) > 0;
    }

    /**
     * KVM_CHECK_EXTENSION(KVM_CAP_NR_MEMSLOTS): how many memory slots user space may number (slot numbers
     * run from 0 to one less). A KVM too old to answer had 32, KVM_MEMORY_SLOTS of its day.
     */
    public int memorySlotLimit() throws ErrnoException {
        int limit = KvmIoctls.checkExtension(fd, KvmAbi.KVM_CAP_NR_MEMSLOTS);
        return limit > 0 ? limit : 32;
    }

    /**
     * KVM_CHECK_EXTENSION(KVM_CAP_COALESCED_MMIO): the page of each vCPU's mapping that holds the coalesced
     * MMIO ring ({@link Vcpu#coalescedMmioRing}), or empty where KVM does not queue MMIO writes.
     */
    public OptionalInt coalescedMmioPage() throws ErrnoException {
        int page = KvmIoctls.checkExtension(fd, KvmAbi.KVM_CAP_COALESCED_MMIO);
        return page > 0 ? OptionalInt.of(page) : OptionalInt.empty();
    }

    /**
     * KVM_REGISTER_COALESCED_MMIO: from now on guest writes wholly inside [{@code address}, {@code address +
     * size}) are queued in the coalesced MMIO ring instead of exiting, until the zone is closed.
     */
    public CoalescedMmioZone registerCoalescedMmio(long address, int size) throws ErrnoException {
        if (size <= 0) {
            throw new IllegalArgumentException("a coalesced MMIO zone needs a size above 0, got " + size);
        }
        KvmIoctls.coalescedMmio(fd, address, size, true);
        return new CoalescedMmioZone(fd, address, size);
    }

    /** KVM_CREATE_VCPU, and maps its kvm_run. The VM closes it on close. */
    public synchronized Vcpu createVcpu(int vcpuId) throws ErrnoException {
        Fd vcpuFd = KvmIoctls.createVcpu(fd, vcpuId);
        try {
            Vcpu vcpu = new Vcpu(vcpuId, vcpuFd, KvmRunView.map(vcpuFd, kvm.vcpuMmapSize()));
            vcpus.add(vcpu);
            return vcpu;
        } catch (ErrnoException | RuntimeException e) {
            vcpuFd.close();
            throw e;
        }
    }

    /** Closes the vCPUs (newest first), deletes every memory slot, closes the VM fd. */
    @Override
    public synchronized void close() {
        for (int i = vcpus.size() - 1; i >= 0; i--) {
            vcpus.get(i).close();
        }
        vcpus.clear();
        if (fd.isOpen()) {
            for (Integer slot : List.copyOf(slots.keySet())) {
                try {
                    removeMemorySlot(slot);
                } catch (ErrnoException e) {
                    System.getLogger(Vm.class.getName())
                            .log(
                                    System.Logger.Level.WARNING,
                                    "deleting memory slot " + slot + " at close: " + e.getMessage());
                }
            }
        }
        slots.clear();
        fd.close();
    }
}
