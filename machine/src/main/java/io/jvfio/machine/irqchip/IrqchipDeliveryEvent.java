package io.jvfio.machine.irqchip;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

@Name("io.jvfio.IrqchipDelivery")
@Label("Irqchip Delivery")
@Category({"jvfio", "Irqchip"})
@Description("jvfio's irqchip handed a vector to a vCPU (KVM_INTERRUPT)")
class IrqchipDeliveryEvent extends Event {
    @Label("vCPU")
    int vcpu;

    @Label("Vector")
    int vector;
}
