package io.jvfio.platform;

import io.jvfio.sys.EventFd;
import io.jvfio.vfio.IrqInfo;
import java.util.Optional;

/**
 * The host-side plumbing of one device IRQ: its GSI, the trigger eventfd the device signals, the unmask
 * (resample) eventfd of an automasked IRQ on the irqfd path, and the event-loop registration of the
 * user-side path.
 */
record PlatformIrqWiring(
        IrqInfo info, int gsi, IrqPath path, EventFd trigger, Optional<EventFd> unmask, long eventLoopToken) {
    static final long NO_TOKEN = -1;
}
