package io.jvfio.vfio;

/** One IRQ index as VFIO_DEVICE_GET_IRQ_INFO reports it. */
public record IrqInfo(int index, int flags, int count) {
    public static final int FLAG_EVENTFD = 1;
    public static final int FLAG_MASKABLE = 1 << 1;
    public static final int FLAG_AUTOMASKED = 1 << 2;
    public static final int FLAG_NORESIZE = 1 << 3;

    public IrqInfo {
        if (index < 0 || count < 0) {
            throw new IllegalArgumentException("IRQ index " + index + ": negative index or count " + count);
        }
    }

    public boolean supportsEventfd() {
        return (flags & FLAG_EVENTFD) != 0;
    }

    public boolean maskable() {
        return (flags & FLAG_MASKABLE) != 0;
    }

    /** The device masks the line itself when it fires (level-triggered); the consumer must unmask it. */
    public boolean automasked() {
        return (flags & FLAG_AUTOMASKED) != 0;
    }

    public String flagNames() {
        return Flags.names(flags, new String[] {"EVENTFD", "MASKABLE", "AUTOMASKED", "NORESIZE"});
    }
}
