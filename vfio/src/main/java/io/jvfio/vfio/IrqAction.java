package io.jvfio.vfio;

/** The action bits of VFIO_DEVICE_SET_IRQS. */
public enum IrqAction {
    MASK(1 << 3),
    UNMASK(1 << 4),
    TRIGGER(1 << 5);

    private final int flag;

    IrqAction(int flag) {
        this.flag = flag;
    }

    /** The VFIO_IRQ_SET_ACTION_* bit. */
    public int flag() {
        return flag;
    }

    public static IrqAction fromFlags(int flags) {
        IrqAction found = null;
        for (IrqAction action : values()) {
            if ((flags & action.flag) != 0) {
                if (found != null) {
                    throw new IllegalArgumentException(
                            "more than one IRQ action in flags 0x" + Integer.toHexString(flags));
                }
                found = action;
            }
        }
        if (found == null) {
            throw new IllegalArgumentException("no IRQ action in flags 0x" + Integer.toHexString(flags));
        }
        return found;
    }
}
