package io.jvfio.bench;

import io.jvfio.sys.UnixSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A raw 64-byte AF_UNIX echo in a child JVM (vfio-user-rtt's diagnostic "java raw" rounds): listens on
 * the socket path given, says "serving ..." (what {@code ServerProcess} waits for), echoes one client's 64-byte messages until it closes.
 */
public final class PongMain {
    static final int MESSAGE = 64;

    private PongMain() {}

    public static void main(String[] args) throws Exception {
        try (UnixSocket listening = UnixSocket.listen(Path.of(args[0]), 1)) {
            System.out.println("serving a 64-byte echo on " + args[0]);
            System.out.flush();
            try (UnixSocket peer = listening.accept()) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(MESSAGE);
                ByteBuffer[] parts = {buffer};
                int[] noFds = new int[0];
                while (true) {
                    buffer.clear();
                    if (!peer.receiveFully(buffer)) {
                        return;
                    }
                    buffer.flip();
                    peer.send(parts, noFds);
                }
            }
        }
    }
}
