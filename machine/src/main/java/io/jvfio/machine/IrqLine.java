package io.jvfio.machine;

import java.util.Optional;

import io.jvfio.machine.irqchip.EoiRegistration;
import io.jvfio.sys.ErrnoException;

/**
 * One interrupt line into the machine's irqchip: a GSI, which the machine routes to the IOAPIC pin of the
 * same number (KVM's in-kernel IOAPIC through KVM_IRQ_LINE, or jvfio's own). The host only sets levels;
 * edge or level is how the guest programs its IOAPIC entry. A level device raises and later lowers; an
 * edge device pulses. On jvfio's own irqchip the line also reports the guest's EOIs of its interrupts,
 * which KVM's in-kernel irqchip only offers through an irqfd's resamplefd.
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

    private final int gsi;
    private final LevelSetter setter;
    private final Optional<EndOfInterruptSource> endOfInterrupt;

    public IrqLine(int gsi, LevelSetter setter) {
        this(gsi, setter, Optional.empty());
    }

    public IrqLine(int gsi, LevelSetter setter, Optional<EndOfInterruptSource> endOfInterrupt) {
        this.gsi = gsi;
        this.setter = setter;
        this.endOfInterrupt = endOfInterrupt;
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
        return endOfInterrupt.orElseThrow(() -> new IllegalStateException(this
                        + ": the in-kernel irqchip does not report EOIs to user space"))
                .onEndOfInterrupt(gsi, listener);
    }

    /**
     * What KVM's irqfd resamplefd does, on jvfio's irqchip: each guest EOI of this line's level interrupt
     * lowers the line before the IOAPIC looks at it again, then runs {@code listener}, which raises it
     * again if its source still asserts. Only where {@link #observesEndOfInterrupt()}.
     */
    public EoiRegistration resampleOnEndOfInterrupt(Runnable listener) {
        return endOfInterrupt.orElseThrow(() -> new IllegalStateException(this
                        + ": the in-kernel irqchip resamples only through an irqfd's resamplefd"))
                .resampleOnEndOfInterrupt(gsi, listener);
    }

    @Override
    public String toString() {
        return "IrqLine[gsi " + gsi + "]";
    }
}
