package io.jvfio.cli;

import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.irqchip.IrqchipMode;

/**
 * {@code --machine PROPS}: QEMU's {@code -machine} properties that jvfio's machine has, in QEMU's syntax
 * ({@code key=value,...}): {@code kernel-irqchip=on|off|split|auto}, and jvfio's own {@code
 * x-coalesced-eoi=on|off}.
 */
record MachineProperties(IrqchipMode irqchip, boolean coalescedEoi) {
    static final String DESCRIPTION = "Machine properties, QEMU's -machine syntax: kernel-irqchip=auto|on|off "
            + "(default auto: KVM's in-kernel irqchip where it keeps interrupts in service until the guest's EOI, "
            + "jvfio's own elsewhere; 'jvfio host' shows which this host gets); x-coalesced-eoi=on|off (default "
            + "off: on jvfio's irqchip with one vCPU, on queues the guest's EOIs in KVM's coalesced MMIO ring "
            + "instead of exiting, and a guest that runs on without exits sees them within 1 ms).";

    static final MachineProperties DEFAULTS = new MachineProperties(IrqchipMode.AUTO, false);

    /** {@code builder} with these properties set: every command that builds a machine sets them here. */
    MachineConfig.Builder applyTo(MachineConfig.Builder builder) {
        return builder.irqchip(irqchip).coalescedEoi(coalescedEoi);
    }

    /** Parses {@code key=value,...}; a bad key or value is an {@link IllegalArgumentException} naming it. */
    static MachineProperties parse(String value) {
        IrqchipMode irqchip = DEFAULTS.irqchip();
        boolean coalescedEoi = DEFAULTS.coalescedEoi();
        for (String property : value.split(",")) {
            int equals = property.indexOf('=');
            String key = equals < 0 ? property : property.substring(0, equals);
            String setting = equals < 0 ? "" : property.substring(equals + 1);
            if (key.equals("kernel-irqchip")) {
                irqchip = IrqchipMode.parse(setting);
                if (irqchip == IrqchipMode.SPLIT) {
                    throw new IllegalArgumentException("kernel-irqchip=split is not supported: use on, off or auto");
                }
            } else if (key.equals("x-coalesced-eoi")) {
                if (!setting.equals("on") && !setting.equals("off")) {
                    throw new IllegalArgumentException("x-coalesced-eoi must be on or off, not '" + setting + "'");
                }
                coalescedEoi = setting.equals("on");
            } else {
                throw new IllegalArgumentException("unknown machine property '" + key
                        + "' (jvfio's machine has kernel-irqchip and x-coalesced-eoi)");
            }
        }
        return new MachineProperties(irqchip, coalescedEoi);
    }
}
