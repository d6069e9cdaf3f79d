package io.jvfio.vfio;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a platform device describes itself to a guest's device tree: its {@code compatible} strings,
 * extra properties (name to raw big-endian value), and optionally a precise-EOI description per IRQ.
 */
public record DeviceTreeIdentity(List<String> compatible, Map<String, byte[]> properties, List<IrqAck> irqAcks) {
    public DeviceTreeIdentity {
        if (compatible.isEmpty()) {
            throw new IllegalArgumentException("a device-tree identity needs at least one compatible string");
        }
        compatible = List.copyOf(compatible);
        Map<String, byte[]> copy = new LinkedHashMap<>();
        properties.forEach((name, value) -> copy.put(name, value.clone()));
        properties = Collections.unmodifiableMap(copy);
        irqAcks = List.copyOf(irqAcks);
    }

    /**
     * Precise EOI for one IRQ index: its status is {@code statusMask} of the register at
     * {@code statusOffset} of {@code region}; the guest acknowledges it by writing a value with any bit
     * of {@code ackMask} set at {@code ackOffset} of the same region.
     */
    public record IrqAck(int irqIndex, int region, long statusOffset, long statusMask, long ackOffset, long ackMask) {
        public IrqAck {
            if (irqIndex < 0 || region < 0 || statusOffset < 0 || ackOffset < 0 || ackMask == 0) {
                throw new IllegalArgumentException("IRQ " + irqIndex + ": malformed ack description");
            }
        }
    }
}
