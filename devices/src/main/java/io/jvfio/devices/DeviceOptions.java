package io.jvfio.devices;

import java.util.OptionalInt;

/**
 * How to build a catalog device: the number of IRQ lines and which of them are level-triggered (bit i
 * set: line i is level); an empty mask leaves the choice to the model.
 */
public record DeviceOptions(int irqs, OptionalInt levelMask) {
    /** The default number of IRQ lines. */
    public static final int DEFAULT_IRQS = 4;

    public DeviceOptions {
        if (irqs < 1) {
            throw new IllegalArgumentException("--irqs must be at least 1, not " + irqs);
        }
    }

    /** {@value #DEFAULT_IRQS} lines, the model's default trigger modes. */
    public static DeviceOptions defaults() {
        return new DeviceOptions(DEFAULT_IRQS, OptionalInt.empty());
    }

    public DeviceOptions withIrqs(int count) {
        return new DeviceOptions(count, levelMask);
    }

    public DeviceOptions withLevelMask(int mask) {
        return new DeviceOptions(irqs, OptionalInt.of(mask));
    }
}
