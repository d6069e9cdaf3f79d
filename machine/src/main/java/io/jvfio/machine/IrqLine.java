package io.jvfio.machine;

import io.jvfio.sys.ErrnoException;

/**
 * One interrupt line into the in-kernel irqchip: a GSI, which the machine routes to the IOAPIC pin of the
 * same number. The host only sets levels (KVM_IRQ_LINE); edge or level is how the guest programs its
 * IOAPIC entry. A level device raises and later lowers; an edge device pulses.
 */
public final class IrqLine {
    /** Sets a GSI's level: the machine's VM (KVM_IRQ_LINE), or a recorder in tests. */
    @FunctionalInterface
    public interface LevelSetter {
        void setLevel(int gsi, boolean level) throws ErrnoException;
    }

    private final int gsi;
    private final LevelSetter setter;

    public IrqLine(int gsi, LevelSetter setter) {
        this.gsi = gsi;
        this.setter = setter;
    }

    public int gsi() {
        return gsi;
    }

    /** KVM_IRQ_LINE level 1. */
    public void raise() throws ErrnoException {
        setter.setLevel(gsi, true);
    }

    /** KVM_IRQ_LINE level 0. */
    public void lower() throws ErrnoException {
        setter.setLevel(gsi, false);
    }

    /** An edge: KVM_IRQ_LINE level 1 then 0. */
    public void pulse() throws ErrnoException {
        raise();
        lower();
    }

    @Override
    public String toString() {
        return "IrqLine[gsi " + gsi + "]";
    }
}
