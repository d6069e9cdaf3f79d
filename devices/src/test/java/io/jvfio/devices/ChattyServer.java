package io.jvfio.devices;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A stand-in device server for {@link ServerProcessTest}: {@code ChattyServer SOCKET LINES} prints LINES
 * lines of noise, more than a pipe holds, then creates SOCKET (a plain file), prints the ready line and
 * a last line, and sleeps until it is killed.
 */
final class ChattyServer {
    private ChattyServer() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        Path socket = Path.of(args[0]);
        int lines = Integer.parseInt(args[1]);
        for (int i = 0; i < lines; i++) {
            System.err.println("noise " + i + " to fill the pipe of a parent that does not read it");
        }
        Files.createFile(socket);
        System.out.println("serving chatter on " + socket);
        System.out.println("after " + lines + " lines");
        Thread.sleep(Long.MAX_VALUE);
    }
}
