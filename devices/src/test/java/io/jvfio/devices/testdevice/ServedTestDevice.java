package io.jvfio.devices.testdevice;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Poller;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfiouser.client.VfioUserDevice;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The fixture of this module's tests: a {@link TestDevice} served on a socket file and a real vfio-user
 * client connected to it, with a trigger eventfd per line on request. Closes everything in reverse order.
 */
final class ServedTestDevice implements AutoCloseable {
    final TestDevice device;
    final VfioUserServer server;
    final VfioUserDevice client;
    private final List<EventFd> owned = new ArrayList<>();

    private ServedTestDevice(TestDevice device, VfioUserServer server, VfioUserDevice client) {
        this.device = device;
        this.server = server;
        this.client = client;
    }

    /** A device whose timers run on the real clock, on its own thread. */
    static ServedTestDevice start(Path directory, int lines, int levelMask) throws IOException {
        return serve(directory, TestDevice.create(lines, levelMask));
    }

    /** A device whose timers run on {@code clock}. */
    static ServedTestDevice start(Path directory, int lines, int levelMask, SteppedClock clock) throws IOException {
        return serve(directory, TestDevice.create(lines, levelMask, clock));
    }

    private static ServedTestDevice serve(Path directory, TestDevice device) throws IOException {
        Path socket = directory.resolve("test-device.sock");
        VfioUserServer server = VfioUserServer.start(socket, device);
        try {
            return new ServedTestDevice(device, server, VfioUserDevice.connect(socket));
        } catch (IOException | RuntimeException e) {
            server.close();
            device.close();
            throw e;
        }
    }

    /** A non-blocking eventfd connected as line {@code line}'s trigger; closed with the fixture. */
    EventFd trigger(int line) throws IOException {
        EventFd eventFd = EventFd.create(true);
        owned.add(eventFd);
        client.setIrqs(IrqSet.trigger(line, 0, Optional.of(eventFd)));
        return eventFd;
    }

    int read(int offset) throws IOException {
        return (int) client.read(TestDeviceRegisters.REGS_REGION, offset, 4);
    }

    void write(int offset, int value) throws IOException {
        client.write(TestDeviceRegisters.REGS_REGION, offset, 4, Integer.toUnsignedLong(value));
    }

    int readLine(int line, int register) throws IOException {
        return read(TestDeviceRegisters.line(line, register));
    }

    void writeLine(int line, int register, int value) throws IOException {
        write(TestDeviceRegisters.line(line, register), value);
    }

    void unmask(int line) throws IOException {
        client.setIrqs(IrqSet.unmask(line, 0));
    }

    /** Waits up to {@code millis} for the eventfd to be signalled and returns its drained count (0 if not). */
    static long awaitSignals(EventFd eventFd, int millis) throws ErrnoException {
        if (!Poller.readable(eventFd.fd(), millis)) {
            return 0;
        }
        return eventFd.drain();
    }

    /** Asserts that nothing signals the eventfd within {@code millis}. */
    static void assertQuiet(EventFd eventFd, int millis) throws ErrnoException {
        assertThat(Poller.readable(eventFd.fd(), millis))
                .as("eventfd signalled")
                .isFalse();
    }

    /** Polls {@code condition} every millisecond for up to {@code millis}. */
    static boolean eventually(int millis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return condition.getAsBoolean();
    }

    @Override
    public void close() {
        client.close();
        server.close();
        device.close();
        for (EventFd eventFd : owned.reversed()) {
            eventFd.close();
        }
    }
}
