package io.jvfio.platform.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

@Name("io.jvfio.IrqCoalesced")
@Label("IRQ Coalesced")
@Category({"jvfio", "IRQ"})
@Description("A trigger arrived for an IRQ already ACTIVE or PENDING and was merged into it")
class IrqCoalescedEvent extends Event {
    @Label("Device")
    String device;

    @Label("Pin")
    int pin;

    @Label("State")
    String state;
}
