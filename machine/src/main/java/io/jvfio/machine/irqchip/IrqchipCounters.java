package io.jvfio.machine.irqchip;

import java.util.List;

/**
 * The counts of jvfio's irqchip: per LAPIC, and per IOAPIC pin the deliveries it made and the EOIs that
 * ended them (a level pin's remote IRR cleared by the guest's EOI).
 */
public record IrqchipCounters(List<ApicCounters> localApics, long[] pinDeliveries, long[] pinEndsOfInterrupt) {
    public IrqchipCounters {
        localApics = List.copyOf(localApics);
        pinDeliveries = pinDeliveries.clone();
        pinEndsOfInterrupt = pinEndsOfInterrupt.clone();
    }

    public long deliveries(int pin) {
        return pinDeliveries[pin];
    }

    public long endsOfInterrupt(int pin) {
        return pinEndsOfInterrupt[pin];
    }
}
