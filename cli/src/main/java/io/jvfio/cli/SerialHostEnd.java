package io.jvfio.cli;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The host end of a served 16550A's serial line ({@code jvfio serve ns16550a --serial-socket}), as
 * {@code socat - UNIX-CONNECT:SERIAL} would be: it collects what the guest sends and, once {@code awaited}
 * has come, answers with {@code answer} and a newline, so that a guest blocked reading its port gets a line.
 */
final class SerialHostEnd implements AutoCloseable {
    private final SocketChannel channel;
    private final String awaited;
    private final String answer;
    private final StringBuilder received = new StringBuilder();
    private final Thread reader;

    private SerialHostEnd(SocketChannel channel, String awaited, String answer) {
        this.channel = channel;
        this.awaited = awaited;
        this.answer = answer;
        this.reader = Thread.ofPlatform().daemon().name("serial host end").start(this::read);
    }

    static SerialHostEnd connect(Path serial, String awaited, String answer) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(serial));
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot connect to the UART's serial socket " + serial + ": " + e.getMessage(), e);
        }
        return new SerialHostEnd(channel, awaited, answer);
    }

    private void read() {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        boolean answered = false;
        try {
            while (channel.read(buffer.clear()) >= 0) {
                String text;
                synchronized (this) {
                    received.append(new String(buffer.array(), 0, buffer.position(), StandardCharsets.ISO_8859_1));
                    text = received.toString();
                }
                if (!answered && text.contains(awaited)) {
                    answered = true;
                    ByteBuffer reply = ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.US_ASCII));
                    while (reply.hasRemaining()) {
                        channel.write(reply);
                    }
                }
            }
        } catch (IOException e) {
            // Closed by close(), or the server went away: what arrived so far is what the caller reads.
        }
    }

    /** Everything the guest sent so far. */
    synchronized String received() {
        return received.toString();
    }

    /** Closing the channel ends the reader; an interrupt while waiting for it stays set for the caller. */
    @Override
    public void close() throws IOException {
        channel.close();
        try {
            reader.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
