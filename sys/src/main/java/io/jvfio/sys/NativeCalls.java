package io.jvfio.sys;

import io.jvfio.sys.libc.Libc;

/** The system-call layer as a whole. */
public final class NativeCalls {
    private NativeCalls() {}

    /**
     * Starts linking the downcalls that every system call goes through on a daemon thread, and returns at
     * once. Linking takes a fresh JVM 30-60 ms (the linker spins its stubs and lambda forms in interpreted
     * code, and no AOT cache keeps them), which a command would otherwise spend on its first system call;
     * started before the command parses its arguments and reads its files, it runs on the second core
     * meanwhile. A thread that makes a call while the linking runs waits for it, as it would for any class
     * initialisation, and never links twice.
     */
    public static void linkInBackground() {
        Thread.ofPlatform().name("jvfio-link").daemon().start(Libc::linkDowncalls);
    }
}
