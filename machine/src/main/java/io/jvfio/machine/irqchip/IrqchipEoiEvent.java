package io.jvfio.machine.irqchip;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

@Name("io.jvfio.IrqchipEoi")
@Label("Irqchip End Of Interrupt")
@Category({"jvfio", "Irqchip"})
@Description("The guest's EOI cleared a level IOAPIC pin's remote IRR in jvfio's irqchip")
class IrqchipEoiEvent extends Event {
    @Label("Pin")
    int pin;
}
