package io.jvfio.platform.irq;

import java.util.Objects;
import java.util.Optional;

/**
 * One IRQ as the state machine sees it: its index, whether the device automasks it (level lines: it
 * must be unmasked after EOI), the guest line it drives, and, for precise EOI, the ack the guest writes.
 */
public record IrqSpec(int index, boolean automasked, GuestLine line, Optional<Ack> ack) {
    public IrqSpec {
        Objects.requireNonNull(line, "line");
        Objects.requireNonNull(ack, "ack");
    }

    /** A write to {@code offset} of {@code region} with any bit of {@code mask} set acknowledges the IRQ. */
    public record Ack(int region, long offset, long mask) {
        boolean matches(int accessRegion, long accessOffset, long value) {
            return accessRegion == region && accessOffset == offset && (value & mask) != 0;
        }
    }
}
