package io.jvfio.cli.outside;

import io.jvfio.sys.EventFd;
import java.lang.foreign.MemorySegment;

/**
 * A program outside jvfio's modules (on the class path, in the unnamed module), started next to the product's
 * modules: prints each jvfio module of the boot layer with whether it has native access, makes a system
 * call through io.jvfio.sys, then tries a restricted method itself and prints what happened; last, logs a
 * warning through {@link System.Logger}, which the product's modules route.
 */
public final class NativeAccessProbe {
    private NativeAccessProbe() {}

    public static void main(String[] args) throws Exception {
        ModuleLayer.boot().modules().stream()
                .filter(module -> module.getName().startsWith("io.jvfio."))
                .sorted((a, b) -> a.getName().compareTo(b.getName()))
                .forEach(module -> System.out.println(
                        "module " + module.getName() + " native access " + module.isNativeAccessEnabled()));
        try (EventFd event = EventFd.create()) {
            event.signal();
            System.out.println("eventfd through io.jvfio.sys: " + event.fd().get());
        }
        try {
            MemorySegment.NULL.reinterpret(8);
            System.out.println("restricted call outside io.jvfio.sys: allowed");
        } catch (IllegalCallerException e) {
            System.out.println("restricted call outside io.jvfio.sys: refused");
        }
        System.getLogger("io.jvfio.probe").log(System.Logger.Level.WARNING, "a warning from {0}", "outside");
    }
}
