package io.jvfio.platform;

import io.jvfio.devices.testdevice.TestDeviceRegisters;
import io.jvfio.machine.Machine;

/**
 * What the test device and the IOAPIC say while a guest runs, for the message of a guest that did not
 * exit: a line raised more often than acked whose IOAPIC pin shows no remote IRR lost its interrupt
 * before the guest; one with remote IRR set was delivered and not yet ended by the guest.
 */
final class TestDeviceSnapshot {
    private static final int REMOTE_IRR = 1 << 14;
    private static final int MASKED = 1 << 16;

    private TestDeviceSnapshot() {}

    static String describe(Machine machine, VfioPlatformDevice device) {
        StringBuilder text = new StringBuilder();
        try {
            long registers =
                    device.regions().get(TestDeviceRegisters.REGS_REGION).guestBase();
            text.append("device STATUS=0x")
                    .append(Long.toHexString(machine.mmio().read(registers + TestDeviceRegisters.STATUS, 4)));
            for (VfioPlatformDevice.WiredIrq irq : device.irqs()) {
                int line = irq.info().index();
                long block = registers + TestDeviceRegisters.LINE_BASE + (long) line * TestDeviceRegisters.LINE_STRIDE;
                long entry = machine.ioapicRedirectionEntry(irq.gsi());
                text.append("; line ")
                        .append(line)
                        .append(" (")
                        .append(irq.path())
                        .append(", GSI ")
                        .append(irq.gsi())
                        .append(") raised ")
                        .append(machine.mmio().read(block + TestDeviceRegisters.RAISE_COUNT, 4))
                        .append(" acked ")
                        .append(machine.mmio().read(block + TestDeviceRegisters.ACK_COUNT, 4))
                        .append(", IOAPIC")
                        .append((entry & MASKED) != 0 ? " masked" : "")
                        .append((entry & REMOTE_IRR) != 0 ? " remote-IRR" : "");
            }
        } catch (Exception e) {
            text.append(" (snapshot failed: ").append(e).append(')');
        }
        return text.toString();
    }
}
