package io.jvfio.bench;

import static io.jvfio.devices.testdevice.TestDeviceRegisters.ACK;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.ACK_COUNT;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.ECHO_REMAINING;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.ID;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.ID_VALUE;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.IRQ_COUNT;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.LINE_BASE;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.RAISE;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.RAISE_COUNT;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.STATUS;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.UnixSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * The irq benchmarks' "java raw" device, in a child JVM: bench/c/irq_loop.c's device process in Java on
 * jvfio's native layer (no vfio-user). Listens on the socket path given and says "serving ..." (what {@code ServerProcess} waits for); for every
 * connection, a fresh device: it sends an 8-byte hello with its trigger eventfd, then answers each
 * 16-byte request (u32 is_write, u32 offset, u64 value) with an 8-byte reply, modelling the registers
 * (docs/devices/test-device.md, {@code TestDeviceRegisters}) testdev's echo mode uses on line 0 and
 * writing the eventfd whenever it raises the line.
 */
public final class RawDeviceMain {
    static final int REQUEST = 16;
    static final int REPLY = 8;
    /** Line 0's registers (the line block at LINE_BASE), as constants the switches below can use. */
    private static final int LINE0_RAISE_COUNT = LINE_BASE + RAISE_COUNT;

    private static final int LINE0_ACK_COUNT = LINE_BASE + ACK_COUNT;
    private static final int LINE0_ECHO_REMAINING = LINE_BASE + ECHO_REMAINING;

    private RawDeviceMain() {}

    public static void main(String[] args) throws Exception {
        try (UnixSocket listening = UnixSocket.listen(Path.of(args[0]), 1)) {
            System.out.println("serving the raw test device on " + args[0]);
            System.out.flush();
            while (true) {
                try (UnixSocket peer = listening.accept();
                        EventFd trigger = EventFd.create()) {
                    serve(peer, trigger);
                }
            }
        }
    }

    private static void serve(UnixSocket peer, EventFd trigger) throws Exception {
        ByteBuffer hello = ByteBuffer.allocateDirect(REPLY).order(ByteOrder.LITTLE_ENDIAN);
        peer.send(new ByteBuffer[] {hello}, new int[] {trigger.fd().get()});
        RawDevice device = new RawDevice(peer, trigger);
        boolean open = true;
        while (open) {
            open = device.answerNext();
        }
    }

    /**
     * One connection's device. A request per {@link #answerNext} call: a loop entered once per connection
     * is compiled by HotSpot (on-stack replacement) only after tens of thousands of iterations, so with
     * the handling inline every request of a round ran in the interpreter.
     */
    private static final class RawDevice {
        private final UnixSocket peer;
        private final EventFd trigger;
        private final ByteBuffer request = ByteBuffer.allocateDirect(REQUEST).order(ByteOrder.LITTLE_ENDIAN);
        private final ByteBuffer reply = ByteBuffer.allocateDirect(REPLY).order(ByteOrder.LITTLE_ENDIAN);
        private final ByteBuffer[] replyParts = {reply};
        private final int[] noFds = new int[0];
        private int status;
        private int raises;
        private int acks;
        private int echo;

        RawDevice(UnixSocket peer, EventFd trigger) {
            this.peer = peer;
            this.trigger = trigger;
        }

        /** Answers the next request; false when the client closed the connection. */
        boolean answerNext() throws Exception {
            request.clear();
            if (!peer.receiveFully(request)) {
                return false;
            }
            boolean write = request.getInt(0) != 0;
            int offset = request.getInt(4);
            long value = request.getLong(8);
            long answer = 0;
            boolean raise = false;
            if (write) {
                switch (offset) {
                    case RAISE -> raise = (value & 1) != 0;
                    case ACK -> {
                        if ((value & 1) != 0) {
                            acks++;
                            status = 0;
                            if (echo != 0) {
                                echo--;
                                raise = true;
                            }
                        }
                    }
                    case LINE0_ECHO_REMAINING -> echo = (int) value;
                    default -> {}
                }
            } else {
                answer = switch (offset) {
                    case ID -> ID_VALUE;
                    case IRQ_COUNT -> 1;
                    case STATUS -> status;
                    case LINE0_RAISE_COUNT -> raises;
                    case LINE0_ACK_COUNT -> acks;
                    case LINE0_ECHO_REMAINING -> echo;
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
            return true;
        }
    }
}
