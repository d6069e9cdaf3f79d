package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.libc.Libc;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventFdTest {
    @Test
    void signalsAddUpUntilRead() throws Exception {
        try (EventFd eventFd = EventFd.create()) {
            eventFd.signal();
            eventFd.signal();
            eventFd.add(5);
            assertThat(eventFd.read()).isEqualTo(7);
            assertThat(eventFd.drain()).isZero();
        }
    }

    @Test
    void readBlocksUntilAnotherThreadSignals() throws Exception {
        try (EventFd eventFd = EventFd.create()) {
            CountDownLatch started = new CountDownLatch(1);
            long[] seen = new long[1];
            Thread reader = Thread.ofPlatform().start(() -> {
                started.countDown();
                try {
                    seen[0] = eventFd.read();
                } catch (ErrnoException e) {
                    throw new AssertionError(e);
                }
            });
            started.await();
            eventFd.signal();
            reader.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(seen[0]).isEqualTo(1);
        }
    }

    @Test
    void pollerReportsReadabilityWithoutConsuming() throws Exception {
        try (EventFd eventFd = EventFd.create()) {
            assertThat(Poller.readable(eventFd.fd(), 0)).isFalse();
            eventFd.signal();
            assertThat(Poller.readable(eventFd.fd(), 0)).isTrue();
            assertThat(eventFd.drain()).isEqualTo(1);
        }
    }

    @Test
    void drainOfANonBlockingEventFdReturnsZeroWhenEmptyAndTheCountWhenSignalled() throws Exception {
        try (EventFd eventFd = EventFd.create(true)) {
            assertThat(eventFd.drain()).isZero();
            eventFd.add(3);
            eventFd.signal();
            assertThat(eventFd.drain()).isEqualTo(4);
            assertThat(eventFd.drain()).isZero();
        }
    }

    /** Another reader of the peer's file can take the count between a drain's poll and its read. */
    @Test
    void anEventFdAdoptedForReadingCannotBlockItsReaderWhateverThePeerCreatedItAs() throws Exception {
        try (EventFd peers = EventFd.create(false);
                EventFd adopted = EventFd.adoptForReading(peers.fd().duplicate())) {
            assertThat(Libc.fcntl(peers.fd().get(), Libc.F_GETFL, 0) & Libc.O_NONBLOCK)
                    .isNotZero();
            assertThatThrownBy(adopted::read)
                    .isInstanceOf(ErrnoException.class)
                    .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EAGAIN));
            peers.add(2);
            assertThat(adopted.drain()).isEqualTo(2);
            assertThat(adopted.drain()).isZero();
        }
    }
}
