package io.jvfio.vfiouser.server;

import io.jvfio.vfio.IrqInfo;

/**
 * One IRQ index a device model declares: {@code count} lines with edge or level semantics (what
 * the client's user-side state machine keeps per IRQ is the platform's {@code IrqSpec}). Level
 * lines are AUTOMASKED, as VFIO's level interrupts are: a line masks itself when it fires and the
 * client unmasks it (SET_IRQS UNMASK, or its unmask eventfd) once it has handled the interrupt.
 */
public record ModelIrqSpec(int index, int count, Trigger trigger) {
    /** How a line signals. */
    public enum Trigger {
        EDGE,
        LEVEL
    }

    public ModelIrqSpec {
        if (index < 0 || count <= 0) {
            throw new IllegalArgumentException(
                    "IRQ index " + index + ": negative index or count " + count + " not positive");
        }
    }

    public static ModelIrqSpec edge(int index, int count) {
        return new ModelIrqSpec(index, count, Trigger.EDGE);
    }

    public static ModelIrqSpec level(int index, int count) {
        return new ModelIrqSpec(index, count, Trigger.LEVEL);
    }

    /** VFIO_IRQ_INFO_* as the client sees them. */
    public int flags() {
        return IrqInfo.FLAG_EVENTFD | IrqInfo.FLAG_MASKABLE | (trigger == Trigger.LEVEL ? IrqInfo.FLAG_AUTOMASKED : 0);
    }
}
