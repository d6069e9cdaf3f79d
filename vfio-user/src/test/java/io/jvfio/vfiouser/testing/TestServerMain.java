package io.jvfio.vfiouser.testing;

import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;

/**
 * Serves a {@link ProtocolTestModel} on the socket path given as the only argument until stdin closes or
 * says "quit"; prints "ready" once listening. The child process of the cross-process tests.
 */
public final class TestServerMain {
    private TestServerMain() {}

    public static void main(String[] args) throws Exception {
        try (VfioUserServer server = VfioUserServer.start(Path.of(args[0]), new ProtocolTestModel())) {
            System.out.println("ready");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            String line;
            while ((line = in.readLine()) != null && !line.equals("quit")) {
                // keep serving
            }
            server.toString();
        }
    }
}
