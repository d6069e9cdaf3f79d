package io.jvfio.platform.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

@Name("io.jvfio.IrqEoi")
@Label("IRQ End Of Interrupt")
@Category({"jvfio", "IRQ"})
@Description("An ACTIVE IRQ ended: by the first trapped access (the seed's heuristic) or by its declared ack")
class IrqEoiEvent extends Event {
    @Label("Device")
    String device;

    @Label("Pin")
    int pin;

    @Label("Precise")
    boolean precise;
}
