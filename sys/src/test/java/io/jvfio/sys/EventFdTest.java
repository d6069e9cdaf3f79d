package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;

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
}
