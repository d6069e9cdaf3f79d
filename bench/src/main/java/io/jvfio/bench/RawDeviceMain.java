package io.jvfio.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.UnixSocket;

/**
 * The irq benchmarks' "java raw" device, in a child JVM: bench/c/irq_loop.c's device process in Java on
 * jvfio's native layer (no vfio-user). Listens on the socket path given and prints "ready"; for every
 * connection, a fresh device: it sends an 8-byte hello with its trigger eventfd, then answers each
 * 16-byte request (u32 is_write, u32 offset, u64 value) with an 8-byte reply, modelling the registers
 * testdev's echo mode uses on line 0 and writing the eventfd whenever it raises the line.
 */
public final class RawDeviceMain {
    static final int REQUEST = 16;
    static final int REPLY = 8;
    static final int REG_ID = 0x000;
    static final int REG_IRQ_COUNT = 0x008;
    static final int REG_STATUS = 0x010;
    static final int REG_ACK = 0x014;
    static final int REG_RAISE = 0x018;
    static final int REG_LINE0_RAISE_COUNT = 0x108;
    static final int REG_LINE0_ACK_COUNT = 0x10C;
    static final int REG_LINE0_ECHO_REMAINING = 0x114;
    static final long DEVICE_ID = 0x4A564654L;

    private RawDeviceMain() {
    }

    public static void main(String[] args) throws Exception {
        try (UnixSocket listening = UnixSocket.listen(Path.of(args[0]), 1)) {
            System.out.println("ready");
            System.out.flush();
            while (true) {
                try (UnixSocket peer = listening.accept(); EventFd trigger = EventFd.create()) {
                    serve(peer, trigger);
                }
            }
        }
    }

    private static void serve(UnixSocket peer, EventFd trigger) throws Exception {
        ByteBuffer reply = ByteBuffer.allocateDirect(REPLY).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer[] replyParts = {reply};
        peer.send(replyParts, new int[] {trigger.fd().get()});
        int[] noFds = new int[0];
        ByteBuffer request = ByteBuffer.allocateDirect(REQUEST).order(ByteOrder.LITTLE_ENDIAN);
        int status = 0;
        int raises = 0;
        int acks = 0;
        int echo = 0;
        while (true) {
            request.clear();
            if (!peer.receiveFully(request)) {
                return;
            }
            boolean write = request.getInt(0) != 0;
            int offset = request.getInt(4);
            long value = request.getLong(8);
            long answer = 0;
            boolean raise = false;
            if (write) {
                switch (offset) {
                    case REG_RAISE -> raise = (value & 1) != 0;
                    case REG_ACK -> {
                        if ((value & 1) != 0) {
                            acks++;
                            status = 0;
                            if (echo != 0) {
                                echo--;
                                raise = true;
                            }
                        }
                    }
                    case REG_LINE0_ECHO_REMAINING -> echo = (int) value;
                    default -> {
                    }
                }
            } else {
                answer = switch (offset) {
                    case REG_ID -> DEVICE_ID;
                    case REG_IRQ_COUNT -> 1;
                    case REG_STATUS -> status;
                    case REG_LINE0_RAISE_COUNT -> raises;
                    case REG_LINE0_ACK_COUNT -> acks;
                    case REG_LINE0_ECHO_REMAINING -> echo;
                    default -> 0;
                };
            }
            if (raise) {
                status = 1;
                raises++;
                trigger.signal();
            }
            reply.clear();
            reply.putLong(0, answer);
            peer.send(replyParts, noFds);
        }
    }
}
