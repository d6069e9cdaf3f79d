package io.jvfio.platform.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

@Name("io.jvfio.FastPathSwitch")
@Label("Fast Path Switch")
@Category({"jvfio", "Regions"})
@Description("The mmap'ed fast path of a device's regions was switched on (no exits) or off (accesses trap)")
class FastPathSwitchEvent extends Event {
    @Label("Device")
    String device;

    @Label("Enabled")
    boolean enabled;
}
