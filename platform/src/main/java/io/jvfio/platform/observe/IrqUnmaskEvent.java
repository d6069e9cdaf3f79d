package io.jvfio.platform.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

@Name("io.jvfio.IrqUnmask")
@Label("IRQ Unmask")
@Category({"jvfio", "IRQ"})
@Description("An automasked IRQ was unmasked at the device after its EOI")
class IrqUnmaskEvent extends Event {
    @Label("Device")
    String device;

    @Label("Pin")
    int pin;
}
