package io.jvfio.platform.observe;

import java.util.Map;

/**
 * The counters of one assigned device over JMX ({@code io.jvfio:type=VfioPlatformDevice,name=ID}):
 * what {@code jvfio} reports, readable from jconsole or any JMX client while the VM runs.
 */
public interface PlatformDeviceMXBean {
    String getName();

    String getCompatible();

    /** Whether the device stopped answering, and why ("" while it answers). */
    String getGoneReason();

    /** Trapped guest accesses per region index. */
    Map<String, Long> getTrappedAccesses();

    /** Per IRQ index: its path ("irqfd" or "user-side") and, on the user-side path, its counters. */
    Map<String, String> getIrqs();

    long getInjections();

    long getEois();

    long getCoalesced();

    int getPendingPeak();

    long getFastPathSwitchesOn();

    long getFastPathSwitchesOff();
}
