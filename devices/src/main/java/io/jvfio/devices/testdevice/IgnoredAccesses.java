package io.jvfio.devices.testdevice;

import java.lang.System.Logger.Level;
import java.util.HashSet;
import java.util.Set;

/** Accesses the device ignored: each counted, each cause logged the first time. Guarded by the device's lock. */
final class IgnoredAccesses {
    private static final System.Logger LOG = System.getLogger(TestDevice.class.getName());
    /** Causes name offsets, so a guest scanning the register file could otherwise grow the set without bound. */
    private static final int MAX_LOGGED_CAUSES = 64;

    private final Set<String> loggedCauses = new HashSet<>();
    private long count;

    void record(String cause) {
        count++;
        if (loggedCauses.size() < MAX_LOGGED_CAUSES && loggedCauses.add(cause)) {
            LOG.log(Level.INFO, "test-device: ignored: {0} (logged once)", cause);
        }
    }

    long count() {
        return count;
    }
}
