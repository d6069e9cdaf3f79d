package io.jvfio.platform.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

@Name("io.jvfio.TrappedAccess")
@Label("Trapped Access")
@Category({"jvfio", "Regions"})
@Description("A guest access to a device region that exited and was forwarded to the device")
public class TrappedAccessEvent extends Event {
    @Label("Device")
    String device;

    @Label("Region")
    int region;

    @Label("Offset")
    long offset;

    @Label("Size")
    int size;

    @Label("Write")
    boolean write;

    @Label("Value")
    long value;

    /** Records one trapped access if the event is enabled; cheap when it is not. */
    public static void emit(String device, int region, long offset, int size, boolean write, long value) {
        TrappedAccessEvent event = new TrappedAccessEvent();
        if (event.shouldCommit()) {
            event.device = device;
            event.region = region;
            event.offset = offset;
            event.size = size;
            event.write = write;
            event.value = value;
            event.commit();
        }
    }
}
