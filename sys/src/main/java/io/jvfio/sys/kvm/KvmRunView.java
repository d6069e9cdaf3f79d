package io.jvfio.sys.kvm;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.ring.CoalescedMmioRing;

/**
 * Typed access to a vCPU's mmap'ed {@code struct kvm_run}: the exit reason and the fields of the exit's
 * union member, and the inputs (immediate_exit, the data of an in/read exit) written back before the
 * next KVM_RUN. Owns the mapping; the vCPU's thread reads it between runs, and any thread may set
 * immediate_exit.
 */
public final class KvmRunView implements AutoCloseable {
    private final Mapping run;

    private KvmRunView(Mapping run) {
        this.run = run;
    }

    /** Maps {@code size} bytes (KVM_GET_VCPU_MMAP_SIZE) of the vCPU fd. */
    public static KvmRunView map(Fd vcpu, long size) throws ErrnoException {
        if (size < KvmAbi.kvm_run.SIZE) {
            throw new IllegalArgumentException("kvm_run mapping of " + size + " bytes is smaller than struct kvm_run ("
                    + KvmAbi.kvm_run.SIZE + ")");
        }
        return new KvmRunView(Mapping.map(vcpu, 0, size, true, "kvm_run of " + vcpu.description()));
    }

    public int exitReason() {
        return run.getInt(KvmAbi.kvm_run.exit_reason);
    }

    /** immediate_exit: when set, the next KVM_RUN returns EINTR at once instead of entering the guest. */
    public void setImmediateExit(boolean value) {
        run.putByte(KvmAbi.kvm_run.immediate_exit, (byte) (value ? 1 : 0));
    }

    /**
     * request_interrupt_window: when set, KVM_RUN exits with KVM_EXIT_IRQ_WINDOW_OPEN as soon as the guest
     * can take an interrupt (a VMM without an in-kernel LAPIC asks for this while one waits).
     */
    public void setRequestInterruptWindow(boolean value) {
        run.putByte(KvmAbi.kvm_run.request_interrupt_window, (byte) (value ? 1 : 0));
    }

    /** ready_for_interrupt_injection: KVM_INTERRUPT would be taken at the next entry. */
    public boolean readyForInterruptInjection() {
        return run.getByte(KvmAbi.kvm_run.ready_for_interrupt_injection) != 0;
    }

    /** if_flag: the guest's RFLAGS.IF at the exit. */
    public boolean interruptFlag() {
        return run.getByte(KvmAbi.kvm_run.if_flag) != 0;
    }

    /** cr8: the guest's CR8 at the exit. */
    public int cr8() {
        return (int) run.getLong(KvmAbi.kvm_run.cr8);
    }

    /**
     * cr8: without an in-kernel LAPIC, KVM loads the guest's CR8 from here at every KVM_RUN (a value above 15
     * fails the run with EINVAL).
     */
    public void setCr8(int value) {
        run.putLong(KvmAbi.kvm_run.cr8, value);
    }

    public boolean ioIsOut() {
        return run.getByte(KvmAbi.kvm_run.io_direction) == KvmAbi.KVM_EXIT_IO_OUT;
    }

    public int ioSize() {
        return Byte.toUnsignedInt(run.getByte(KvmAbi.kvm_run.io_size));
    }

    public int ioPort() {
        return Short.toUnsignedInt(run.getShort(KvmAbi.kvm_run.io_port));
    }

    public int ioCount() {
        return run.getInt(KvmAbi.kvm_run.io_count);
    }

    public long ioDataOffset() {
        return run.getLong(KvmAbi.kvm_run.io_data_offset);
    }

    /** The {@code index}-th element (io.size bytes) of the exit's data at io.data_offset. */
    public long ioData(int index) {
        int size = ioSize();
        return run.read(checkedIoDataOffset(index, size), size);
    }

    /** Writes the {@code index}-th element that an in exit returns to the guest. */
    public void setIoData(int index, long value) {
        int size = ioSize();
        run.write(checkedIoDataOffset(index, size), size, value);
    }

    private long checkedIoDataOffset(int index, int size) {
        long offset = ioDataOffset() + (long) index * size;
        if (index < 0 || offset < 0 || offset + size > run.size()) {
            throw new IllegalStateException("kvm_run io data " + index + " at " + offset + " is outside the mapping");
        }
        return offset;
    }

    public long mmioPhysAddr() {
        return run.getLong(KvmAbi.kvm_run.mmio_phys_addr);
    }

    public int mmioLen() {
        return run.getInt(KvmAbi.kvm_run.mmio_len);
    }

    public boolean mmioIsWrite() {
        return run.getByte(KvmAbi.kvm_run.mmio_is_write) != 0;
    }

    /** The first mmio.len bytes of mmio.data, little-endian (len 1, 2, 4 or 8; other lengths read 8 bytes' worth). */
    public long mmioData() {
        int len = mmioLen();
        return switch (len) {
            case 1, 2, 4, 8 -> run.read(KvmAbi.kvm_run.mmio_data, len);
            default -> littleEndian(len);
        };
    }

    private long littleEndian(int len) {
        long value = 0;
        for (int i = Math.min(len, 8) - 1; i >= 0; i--) {
            value = value << 8 | Byte.toUnsignedLong(run.getByte(KvmAbi.kvm_run.mmio_data + i));
        }
        return value;
    }

    /** Writes the data a read exit returns to the guest (the low mmio.len bytes of {@code value}). */
    public void setMmioData(long value) {
        long v = value;
        for (int i = 0; i < 8; i++) {
            run.putByte(KvmAbi.kvm_run.mmio_data + i, (byte) v);
            v >>>= 8;
        }
    }

    public long failEntryHardwareReason() {
        return run.getLong(KvmAbi.kvm_run.fail_entry_hardware_entry_failure_reason);
    }

    public int failEntryCpu() {
        return run.getInt(KvmAbi.kvm_run.fail_entry_cpu);
    }

    public int internalSuberror() {
        return run.getInt(KvmAbi.kvm_run.internal_suberror);
    }

    public int systemEventType() {
        return run.getInt(KvmAbi.kvm_run.system_event_type);
    }

    public long size() {
        return run.size();
    }

    /**
     * The coalesced MMIO ring in page {@code page} of this mapping (KVM_CHECK_EXTENSION's answer for
     * KVM_CAP_COALESCED_MMIO); usable while this view is open.
     */
    public CoalescedMmioRing coalescedMmioRing(int page) {
        if (page < 1 || (long) (page + 1) * CoalescedMmioRing.PAGE_SIZE > run.size()) {
            throw new IllegalArgumentException("the coalesced MMIO ring's page " + page + " is not in the " + run.size()
                    + "-byte vCPU mapping after kvm_run");
        }
        return CoalescedMmioRing.inPage(run, page);
    }

    /** Unmaps the run structure. */
    @Override
    public void close() {
        run.close();
    }
}
