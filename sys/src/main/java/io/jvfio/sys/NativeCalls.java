package io.jvfio.sys;

import io.jvfio.sys.libc.Libc;

/** The system-call layer as a whole. */
public final class NativeCalls {
    private NativeCalls() {}

    /**
     * Starts linking the downcall that every system call goes through on a daemon thread, and, with
     * {@code forVcpus}, those only a vCPU's thread makes (KVM_RUN's, sigaction's); returns at once.
     * Linking takes a fresh JVM 15-60 ms a downcall (the linker spins its stubs and lambda forms in
     * interpreted code, and no AOT cache keeps them), which a command would otherwise spend on its first
     * system call; started before the command parses its arguments and reads its files, it runs on the
     * second core meanwhile. A thread that makes a call while the linking runs waits for it, as it would
     * for any class initialisation, and nothing is linked twice. A command without vCPUs leaves the vCPU
     * calls alone: linking them would take the CPU from it and from the device server it talks to.
     */
    public static void linkInBackground(boolean forVcpus) {
        Thread.ofPlatform().name("jvfio-link").daemon().start(() -> Libc.linkDowncalls(forVcpus));
    }
}
