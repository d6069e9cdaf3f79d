package io.jvfio.vfiouser.server;

import static io.jvfio.vfiouser.testing.ModelBuilder.model;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.IrqAction;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfiouser.Bytes;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.Payload;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DEVICE_SET_IRQS UNMASK with eventfds hands them to their lines all or nothing. The failure here is
 * the IRQ watcher's loop already closed (as while the server closes), found by the first eventfd to be
 * watched: in the package, so that the test can close that loop itself.
 */
class UnmaskHandoverTest {
    private static final DeviceModel TWO_LEVEL_LINES =
            model().irqs(ModelIrqSpec.level(0, 2)).build();

    @TempDir
    Path dir;

    private int nextId = 1;

    @Test
    void aRefusedUnmaskHandoverLeavesEveryLineWithTheEventfdItHad() throws Exception {
        int fdsBefore = Resources.openFds();
        Path path = dir.resolve("dev.sock");
        try (VfioUserServer server = VfioUserServer.start(path, TWO_LEVEL_LINES);
                Channel channel = new Channel(UnixSocket.connect(path), 1 << 20, 16, 3000);
                EventFd first0 = EventFd.create();
                EventFd first1 = EventFd.create();
                EventFd second0 = EventFd.create();
                EventFd second1 = EventFd.create()) {
            assertThat(request(channel, Command.VERSION, new Payload.Version(0, 2, Capabilities.defaults()))
                            .isError())
                    .isFalse();
            assertThat(setUnmasks(channel, first0, first1).isError())
                    .as("the first eventfds taken")
                    .isFalse();
            EventFd held0 = unmaskOf(server.line(0, 0));
            EventFd held1 = unmaskOf(server.line(0, 1));

            server.watcher().loop().close();
            assertThat(setUnmasks(channel, second0, second1).isError())
                    .as("refused: nothing can be watched")
                    .isTrue();

            assertThat(unmaskOf(server.line(0, 0)))
                    .as("line 0 keeps its eventfd")
                    .isSameAs(held0);
            assertThat(unmaskOf(server.line(0, 1)))
                    .as("line 1 keeps its eventfd")
                    .isSameAs(held1);
            assertThat(held0.fd().isOpen() && held1.fd().isOpen())
                    .as("the kept eventfds are still open")
                    .isTrue();
        }
        assertThat(Resources.openFds()).as("fds back to where they were").isLessThanOrEqualTo(fdsBefore);
    }

    /**
     * A real failure half-way: the second eventfd is the first one again, which epoll refuses (EEXIST)
     * after the first line has taken it; the first line gets its old eventfd back.
     */
    @Test
    void aHandoverWhoseSecondEventfdCannotBeWatchedGivesTheFirstLineItsOldOneBack() throws Exception {
        ModelIrqLine line0 = new ModelIrqLine(0, 0, true);
        ModelIrqLine line1 = new ModelIrqLine(0, 1, true);
        try (IrqWatcher watcher = new IrqWatcher("handover");
                EventFd old = EventFd.create();
                EventFd twice = EventFd.create()) {
            watcher.setUnmasks(List.of(line0), List.of(old));
            assertThatThrownBy(() -> watcher.setUnmasks(List.of(line0, line1), List.of(twice, twice)))
                    .isInstanceOfSatisfying(
                            ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EEXIST));
            assertThat(unmaskOf(line0)).as("line 0 has its old eventfd back").isSameAs(old);
            assertThat(unmaskOf(line1)).as("line 1 took none").isNull();
            assertThat(old.fd().isOpen() && twice.fd().isOpen())
                    .as("the old one kept, the new one still the caller's")
                    .isTrue();
            watcher.release(line0.disconnect());
        }
    }

    /** The line's unmask eventfd, left in place. */
    private static EventFd unmaskOf(ModelIrqLine line) {
        EventFd held = line.swapUnmask(null);
        line.swapUnmask(held);
        return held;
    }

    private Header setUnmasks(Channel channel, EventFd line0, EventFd line1) throws Exception {
        Payload.DeviceSetIrqs request =
                Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | IrqAction.UNMASK.flag(), 0, 0, 2, Bytes.EMPTY);
        channel.send(nextId++, Command.DEVICE_SET_IRQS, Header.TYPE_COMMAND, 0, request, new int[] {
            line0.fd().get(), line1.fd().get()
        });
        return reply(channel);
    }

    private Header request(Channel channel, int command, Payload payload) throws Exception {
        channel.send(nextId++, command, Header.TYPE_COMMAND, 0, payload, new int[0]);
        return reply(channel);
    }

    private static Header reply(Channel channel) throws Exception {
        Channel.Incoming reply = channel.receive();
        assertThat(reply).as("a reply").isNotNull();
        reply.closeFds();
        return reply.header();
    }
}
