package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.testing.Resources;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EpollTimerTest {
    @Test
    void epollReturnsTheTokenOfTheSignalledFd() throws Exception {
        try (Epoll epoll = Epoll.create(8);
                EventFd a = EventFd.create(true);
                EventFd b = EventFd.create(true)) {
            epoll.add(a.fd(), Epoll.EPOLLIN, 11);
            epoll.add(b.fd(), Epoll.EPOLLIN, 22);
            assertThat(epoll.await(0)).isZero();
            b.signal();
            assertThat(epoll.await(1000)).isEqualTo(1);
            assertThat(epoll.token(0)).isEqualTo(22);
            assertThat(epoll.events(0) & Epoll.EPOLLIN).isNotZero();
            epoll.remove(b.fd());
            assertThat(epoll.await(0)).isZero();
        }
    }

    @Test
    void aCapacityEpollWaitRefusesIsRefusedWithoutLeavingAnFd() {
        int before = Resources.openFds();

        for (int capacity : new int[] {-1, 0, Integer.MAX_VALUE}) {
            assertThatThrownBy(() -> Epoll.create(capacity))
                    .as("capacity %d", capacity)
                    .isInstanceOf(IllegalArgumentException.class);
        }

        assertThat(Resources.openFds()).isEqualTo(before);
    }

    @Test
    void timerFiresOnceThenPeriodically() throws Exception {
        try (Epoll epoll = Epoll.create(4);
                TimerFd timer = TimerFd.create()) {
            epoll.add(timer.fd(), Epoll.EPOLLIN, 1);
            timer.arm(TimeUnit.MILLISECONDS.toNanos(5), TimeUnit.MILLISECONDS.toNanos(5));
            assertThat(epoll.await(2000)).isEqualTo(1);
            assertThat(timer.expirations()).isPositive();
            assertThat(epoll.await(2000)).isEqualTo(1);
            timer.disarm();
            timer.expirations();
            assertThat(epoll.await(50)).isZero();
            assertThat(timer.expirations()).isZero();
        }
    }
}
