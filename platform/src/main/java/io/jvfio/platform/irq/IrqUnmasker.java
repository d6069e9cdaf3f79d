package io.jvfio.platform.irq;

/** Unmasks an automasked IRQ at the device once the guest has handled it (VFIO_IRQ_SET_ACTION_UNMASK). */
public interface IrqUnmasker {
    void unmask(int irqIndex);
}
