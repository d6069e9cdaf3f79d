package io.jvfio.vfiouser.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.Errno;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.Poller;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfiouser.Bytes;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.Payload;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the server fuzzer found, replayed as the sequences that trigger it:
 * <ul>
 * <li>seed 7: a DMA_MAP larger than the client's memfd was mmap'ed (mmap allows it), and the device's
 * DMA past the file's end took SIGBUS; the JVM's InternalError escaped the connection thread and
 * killed the connection. Now such a map is refused, and a DMA into memory the client shrank after
 * mapping fails with EFAULT.</li>
 * <li>seed 7: an unmask "eventfd" that epoll cannot watch (a memfd) made DEVICE_SET_IRQS throw an
 * ErrnoException past the request handler, which ended the connection; the fds already handed to
 * earlier lines were also closed under them. Now it is an error reply and the earlier lines keep
 * their eventfds.</li>
 * </ul>
 */
class FuzzRegressionTest {
    private static final int IRQ_UNMASK = 1 << 4;
    private static final int IRQ_TRIGGER = 1 << 5;

    @TempDir
    Path dir;

    private Path path;
    private VfioUserServer server;
    private RawClient client;
    private int fdsBefore;

    @BeforeEach
    void start() throws Exception {
        fdsBefore = Resources.openFds();
        path = dir.resolve("fuzz.sock");
        server = VfioUserServer.start(path, new FuzzDevice());
        client = RawClient.negotiated(path);
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
        assertThat(Resources.openFds()).as("fds back to where they were").isLessThanOrEqualTo(fdsBefore);
    }

    private static void assertError(Channel.Incoming reply, int errno) {
        assertThat(reply).isNotNull();
        assertThat(reply.header().isError())
                .as("error reply to " + reply.header())
                .isTrue();
        assertThat(reply.header().error())
                .as(Errno.name(reply.header().error()))
                .isEqualTo(errno);
    }

    private void write(long register, long value) throws Exception {
        Channel.Incoming reply = client.request(
                Command.REGION_WRITE, Payload.RegionAccess.withData(register, 0, Bytes.littleEndian(value, 8)));
        assertThat(reply.header().isError())
                .as("write of register 0x" + Long.toHexString(register))
                .isFalse();
    }

    @Test
    void dmaMapPastTheEndOfTheClientsFdIsRefused() throws Exception {
        try (Fd memory = MemFd.create("guest", 0x4000)) {
            assertError(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x100000, 0x8000), memory.get()),
                    Errno.EINVAL);
            assertError(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0x2000, 0x100000, 0x4000), memory.get()),
                    Errno.EINVAL);
            assertThat(client.request(
                                    Command.DMA_MAP, new Payload.DmaMap(32, 3, 0x1000, 0x100000, 0x3000), memory.get())
                            .header()
                            .isError())
                    .as("a map that fits the fd")
                    .isFalse();
        }
        assertThat(client.serves()).isTrue();
    }

    @Test
    void dmaIntoMemoryTheClientShrankAfterMappingFailsAndTheConnectionLives() throws Exception {
        try (Fd memory = MemFd.create("guest", 0x4000)) {
            assertThat(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x100000, 0x4000), memory.get())
                            .header()
                            .isError())
                    .isFalse();
            MemFd.resize(memory, 0x1000);
            write(FuzzDevice.DMA_ADDRESS, 0x102000);
            write(FuzzDevice.DMA_LENGTH, 16);
            Channel.Incoming go = client.request(
                    Command.REGION_WRITE,
                    Payload.RegionAccess.withData(FuzzDevice.DMA_GO, 0, Bytes.littleEndian(1, 8)));
            assertError(go, Errno.EIO);
        }
        assertThat(client.serves()).as("the connection outlived the fault").isTrue();
    }

    @Test
    void unmaskFdThatIsNotAnEventfdIsRefusedBeforeAnyLineTakesOneAndTheTriggerStays() throws Exception {
        try (EventFd trigger = EventFd.create(true);
                EventFd unmask = EventFd.create(true);
                Fd notAnEventfd = MemFd.create("not an eventfd", 0x1000)) {
            assertThat(client.request(
                                    Command.DEVICE_SET_IRQS,
                                    Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | IRQ_TRIGGER, 1, 0, 1, Bytes.EMPTY),
                                    trigger.fd().get())
                            .header()
                            .isError())
                    .isFalse();
            assertError(
                    client.request(
                            Command.DEVICE_SET_IRQS,
                            Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | IRQ_UNMASK, 1, 0, 2, Bytes.EMPTY),
                            unmask.fd().get(),
                            notAnEventfd.get()),
                    Errno.EINVAL);
            write(FuzzDevice.LEVEL, 1);
            assertThat(Poller.readable(trigger.fd(), 2000)).isTrue();
            assertThat(trigger.drain()).as("the level IRQ fired and automasked").isEqualTo(1);
            unmask.signal();
            assertThat(Poller.readable(trigger.fd(), 300))
                    .as("line 1.0 took no unmask eventfd from the refused request: still masked")
                    .isFalse();
        }
        assertThat(client.serves()).isTrue();
    }
}
