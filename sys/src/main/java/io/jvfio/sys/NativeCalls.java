package io.jvfio.sys;

import io.jvfio.sys.libc.Libc;

/** The system-call layer as a whole. */
public final class NativeCalls {
    private NativeCalls() {}

    /**
     * Links the downcall that every system call goes through, and, with {@code forVcpus}, those only a
     * vCPU's thread makes (KVM_RUN's, sigaction's), instead of on each one's first call. Linking takes a
     * fresh JVM 15-60 ms a downcall (the linker spins its stubs and lambda forms in interpreted code, and
     * no AOT cache keeps them): a command calls this on a second thread before its own set-up, so that it
     * runs on the other core meanwhile. A thread that makes a call while the linking runs waits for it,
     * as it would for any class initialisation, and nothing is linked twice.
     */
    public static void link(boolean forVcpus) {
        Libc.linkDowncalls(forVcpus);
    }
}
