package io.jvfio.vfiouser.conformance;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.UnixSocket;
import java.time.Duration;

/**
 * A vfio-user "server" that a test scripts frame by frame: one end of a real socket pair, driven by a
 * script on a thread of its own while the test calls jvfio's client on the other end. A script that
 * throws (an assertion, a timeout) fails the test at {@link #await}.
 */
final class ScriptedServer implements AutoCloseable {
    /** What the server end does, frame by frame. */
    interface Script {
        void run(Wire wire) throws Exception;
    }

    private final Wire wire;
    private final UnixSocket clientEnd;
    private final Thread thread;
    private volatile Throwable failure;

    private ScriptedServer(Wire wire, UnixSocket clientEnd, Script script) {
        this.wire = wire;
        this.clientEnd = clientEnd;
        this.thread = Thread.ofPlatform().name("scripted vfio-user server").start(() -> {
            try {
                script.run(wire);
            } catch (Throwable e) {
                failure = e;
            }
        });
    }

    static ScriptedServer start(Script script) throws ErrnoException {
        UnixSocket[] pair = UnixSocket.pair();
        return new ScriptedServer(new Wire(pair[0], Duration.ofSeconds(5)), pair[1], script);
    }

    /** The client's end, for {@code VfioUserDevice.open}, which then owns it. */
    UnixSocket clientEnd() {
        return clientEnd;
    }

    /** Waits for the script to finish and fails with what it threw. */
    void await() throws Exception {
        thread.join(10_000);
        if (thread.isAlive()) {
            throw new AssertionError("the script did not finish within 10 s");
        }
        Throwable thrown = failure;
        if (thrown instanceof Exception e) {
            throw e;
        }
        if (thrown instanceof Error e) {
            throw e;
        }
    }

    @Override
    public void close() {
        wire.socket().shutdown();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        wire.close();
    }
}
