package io.jvfio.cli;

import io.jvfio.machine.irqchip.IrqchipMode;

/**
 * {@code --machine PROPS}: QEMU's {@code -machine} properties that jvfio's machine has, in QEMU's syntax
 * ({@code key=value,...}). Today one: {@code kernel-irqchip=on|off|split|auto}.
 */
record MachineProperties(IrqchipMode irqchip) {
    static final String DESCRIPTION = "Machine properties, QEMU's -machine syntax: kernel-irqchip=auto|on|off "
            + "(default auto: KVM's in-kernel irqchip where it keeps interrupts in service until the guest's EOI, "
            + "jvfio's own elsewhere; 'jvfio host' shows which this host gets).";

    static final MachineProperties DEFAULTS = new MachineProperties(IrqchipMode.AUTO);

    /** Parses {@code key=value,...}; a bad key or value is an {@link IllegalArgumentException} naming it. */
    static MachineProperties parse(String value) {
        IrqchipMode irqchip = IrqchipMode.AUTO;
        for (String property : value.split(",")) {
            int equals = property.indexOf('=');
            String key = equals < 0 ? property : property.substring(0, equals);
            String setting = equals < 0 ? "" : property.substring(equals + 1);
            if (!key.equals("kernel-irqchip")) {
                throw new IllegalArgumentException(
                        "unknown machine property '" + key + "' (jvfio's machine has kernel-irqchip)");
            }
            irqchip = IrqchipMode.parse(setting);
            if (irqchip == IrqchipMode.SPLIT) {
                throw new IllegalArgumentException("kernel-irqchip=split is not supported: use on, off or auto");
            }
        }
        return new MachineProperties(irqchip);
    }
}
