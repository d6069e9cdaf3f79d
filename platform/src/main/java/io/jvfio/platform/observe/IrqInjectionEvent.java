package io.jvfio.platform.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

@Name("io.jvfio.IrqInjection")
@Label("IRQ Injection")
@Category({"jvfio", "IRQ"})
@Description("The guest line of an IRQ was raised on the user-side path")
class IrqInjectionEvent extends Event {
    @Label("Device")
    String device;

    @Label("Pin")
    int pin;

    @Label("From Pending Queue")
    boolean fromPending;
}
