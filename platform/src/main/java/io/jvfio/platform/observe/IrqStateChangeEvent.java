package io.jvfio.platform.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

@Name("io.jvfio.IrqStateChange")
@Label("IRQ State Change")
@Category({"jvfio", "IRQ"})
@Description("An IRQ of an assigned device moved between INACTIVE, ACTIVE, ACTIVE_FIRED_AGAIN and PENDING")
class IrqStateChangeEvent extends Event {
    @Label("Device")
    String device;

    @Label("Pin")
    int pin;

    @Label("From")
    String from;

    @Label("To")
    String to;
}
