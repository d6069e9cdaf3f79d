package io.jvfio.bench;

import io.jvfio.machine.ExitDispatcher;
import io.jvfio.sys.kvm.KvmRunView;
import java.io.IOException;

/** The port exits of the java raw loops, as lib/guestvm.c handles them: the exit port, and ones for reads. */
final class RawPorts {
    private RawPorts() {}

    /**
     * Handles the port exit just returned: true when it is the guest's write to the exit port with code 0,
     * an exception for any other code; other writes (console, report) are dropped, reads answer ones.
     */
    static boolean exited(KvmRunView run) throws IOException {
        if (run.ioIsOut()) {
            if (run.ioPort() != ExitDispatcher.EXIT_PORT) {
                return false;
            }
            long code = run.ioData(0);
            if (code != 0) {
                throw new IOException("the guest exited with " + code + " under java raw");
            }
            return true;
        }
        run.setIoData(0, -1L);
        return false;
    }
}
