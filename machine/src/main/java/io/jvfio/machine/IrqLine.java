package io.jvfio.machine;

import io.jvfio.machine.irqchip.EoiRegistration;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import java.util.Optional;

/**
 * One interrupt line into the machine's irqchip: a GSI, which the machine routes to the IOAPIC pin of the
 * same number (KVM's in-kernel IOAPIC through KVM_IRQ_LINE, or jvfio's own). The host only sets levels;
 * edge or level is how the guest programs its IOAPIC entry. A level device raises and later lowers; an
 * edge device pulses. On jvfio's own irqchip the line also reports the guest's EOIs of its interrupts,
 * which KVM's in-kernel irqchip only offers through an irqfd's resamplefd. On KVM's in-kernel irqchip the
 * line can instead be driven by KVM itself from an eventfd (irqfd), which is how a device's interrupt
 * reaches the guest without a trip through user space.
 */
public final class IrqLine {
    /** Sets a GSI's level: the machine's VM (KVM_IRQ_LINE), jvfio's IOAPIC, or a recorder in tests. */
    @FunctionalInterface
    public interface LevelSetter {
        void setLevel(int gsi, boolean level) throws ErrnoException;
    }

    /** Where the guest's EOIs of a level GSI can be seen (jvfio's own irqchip). */
    public interface EndOfInterruptSource {
        /** Whether an interrupt of {@code gsi} was delivered and the guest has not ended it yet. */
        boolean inService(int gsi);

        /** Runs {@code listener} after each guest EOI of {@code gsi}; closing the result removes it. */
        EoiRegistration onEndOfInterrupt(int gsi, Runnable listener);

        /** The same, but each EOI first lowers the line, as KVM's irqfd resampler does. */
        EoiRegistration resampleOnEndOfInterrupt(int gsi, Runnable listener);
    }

    /** KVM_IRQFD on the GSIs of KVM's in-kernel irqchip (the machine's VM). */
    public interface IrqfdTarget {
        /** Registers {@code trigger} for {@code gsi}: with a resamplefd a level, without one an edge. */
        void registerIrqfd(int gsi, EventFd trigger, Optional<EventFd> resample) throws ErrnoException;

        /** Unregisters {@code trigger} from {@code gsi}. */
        void unregisterIrqfd(int gsi, EventFd trigger) throws ErrnoException;
    }

    private final int gsi;
    private final LevelSetter setter;
    private final Optional<EndOfInterruptSource> endOfInterrupt;
    private final Optional<IrqfdTarget> irqfd;

    public IrqLine(int gsi, LevelSetter setter) {
        this(gsi, setter, Optional.empty());
    }

    public IrqLine(int gsi, LevelSetter setter, Optional<EndOfInterruptSource> endOfInterrupt) {
        this(gsi, setter, endOfInterrupt, Optional.empty());
    }

    private IrqLine(
            int gsi, LevelSetter setter, Optional<EndOfInterruptSource> endOfInterrupt, Optional<IrqfdTarget> irqfd) {
        this.gsi = gsi;
        this.setter = setter;
        this.endOfInterrupt = endOfInterrupt;
        this.irqfd = irqfd;
    }

    /** A line that KVM can also drive from an eventfd ({@link #registerIrqfd}). */
    public static IrqLine withIrqfd(int gsi, LevelSetter setter, IrqfdTarget irqfd) {
        return new IrqLine(gsi, setter, Optional.empty(), Optional.of(irqfd));
    }

    public int gsi() {
        return gsi;
    }

    /** Level 1. */
    public void raise() throws ErrnoException {
        setter.setLevel(gsi, true);
    }

    /** Level 0. */
    public void lower() throws ErrnoException {
        setter.setLevel(gsi, false);
    }

    /** Level 1 or 0. */
    public void set(boolean level) throws ErrnoException {
        setter.setLevel(gsi, level);
    }

    /** An edge: level 1 then 0. */
    public void pulse() throws ErrnoException {
        raise();
        lower();
    }

    /** Whether this line reports the guest's EOIs ({@link #inService}, {@link #onEndOfInterrupt}). */
    public boolean observesEndOfInterrupt() {
        return endOfInterrupt.isPresent();
    }

    /** Whether a level interrupt of this line is in service in the guest; false where EOIs are not seen. */
    public boolean inService() {
        return endOfInterrupt.map(source -> source.inService(gsi)).orElse(false);
    }

    /**
     * Runs {@code listener} after each guest EOI of this line's level interrupts, on the thread of that
     * EOI. Only where {@link #observesEndOfInterrupt()}.
     */
    public EoiRegistration onEndOfInterrupt(Runnable listener) {
        return endOfInterrupt
                .orElseThrow(() ->
                        new IllegalStateException(this + ": the in-kernel irqchip does not report EOIs to user space"))
                .onEndOfInterrupt(gsi, listener);
    }

    /**
     * What KVM's irqfd resamplefd does, on jvfio's irqchip: each guest EOI of this line's level interrupt
     * lowers the line before the IOAPIC looks at it again, then runs {@code listener}, which raises it
     * again if its source still asserts. Only where {@link #observesEndOfInterrupt()}.
     */
    public EoiRegistration resampleOnEndOfInterrupt(Runnable listener) {
        return endOfInterrupt
                .orElseThrow(() -> new IllegalStateException(
                        this + ": the in-kernel irqchip resamples only through an irqfd's resamplefd"))
                .resampleOnEndOfInterrupt(gsi, listener);
    }

    /**
     * Whether KVM can drive this line from an eventfd, with a resamplefd for level interrupts: KVM's
     * in-kernel irqchip with KVM_CAP_IRQFD and KVM_CAP_IRQFD_RESAMPLE.
     */
    public boolean acceptsIrqfd() {
        return irqfd.isPresent();
    }

    /**
     * KVM_IRQFD: each signal of {@code trigger} raises this line in the kernel. With {@code resample} the
     * line is a level that KVM lowers at the guest's EOI, signalling {@code resample} so the device can
     * re-assert; without, each signal is an edge. Only where {@link #acceptsIrqfd()}.
     */
    public void registerIrqfd(EventFd trigger, Optional<EventFd> resample) throws ErrnoException {
        irqfdTarget().registerIrqfd(gsi, trigger, resample);
    }

    /** Undoes {@link #registerIrqfd} for {@code trigger}. */
    public void unregisterIrqfd(EventFd trigger) throws ErrnoException {
        irqfdTarget().unregisterIrqfd(gsi, trigger);
    }

    private IrqfdTarget irqfdTarget() {
        return irqfd.orElseThrow(() -> new IllegalStateException(
                this + ": KVM drives lines from eventfds only on its in-kernel irqchip with irqfd and resamplefd"));
    }

    @Override
    public String toString() {
        return "IrqLine[gsi " + gsi + "]";
    }
}
