package io.jvfio.machine.irqchip;

import java.util.Locale;

/**
 * QEMU's {@code kernel-irqchip} machine property: {@code on} uses KVM's in-kernel IOAPIC and LAPICs,
 * {@code off} jvfio's own ({@link UserIrqchip}), {@code split} (in-kernel LAPICs, a user-space IOAPIC) is
 * refused, and {@code auto} is {@code on} where the host's in-kernel irqchip keeps interrupts in service
 * until the guest's EOI, {@code off} elsewhere.
 */
public enum IrqchipMode {
    ON,
    OFF,
    SPLIT,
    AUTO;

    /** Parses QEMU's values: on, off, split, auto. */
    public static IrqchipMode parse(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "on" -> ON;
            case "off" -> OFF;
            case "split" -> SPLIT;
            case "auto" -> AUTO;
            default ->
                throw new IllegalArgumentException(
                        "kernel-irqchip must be on, off, split or auto, got '" + value + "'");
        };
    }

    public String propertyValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
