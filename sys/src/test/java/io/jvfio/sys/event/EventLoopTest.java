package io.jvfio.sys.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.EventFd;
import io.jvfio.sys.testing.NativeThreads;
import io.jvfio.sys.testing.Resources;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class EventLoopTest {
    @Test
    void signalledEventFdRunsItsHandlerOnTheLoopThreadWithTheCount() throws Exception {
        try (EventLoop loop = EventLoop.start("test-loop");
                EventFd fd = EventFd.create()) {
            CountDownLatch ran = new CountDownLatch(1);
            AtomicLong count = new AtomicLong();
            List<Thread> threads = new CopyOnWriteArrayList<>();
            loop.register(fd, n -> {
                count.set(n);
                threads.add(Thread.currentThread());
                ran.countDown();
            });
            fd.add(3);
            assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(count.get()).isEqualTo(3);
            assertThat(threads).containsExactly(loop.thread());
        }
    }

    /** An Error from a handler ends the loop's thread: later work is refused naming it, not silently kept. */
    @Test
    void afterAnErrorEndedTheLoopSchedulingFailsNamingIt() throws Exception {
        try (EventLoop loop = EventLoop.start("test-loop");
                EventFd fd = EventFd.create()) {
            loop.register(fd, n -> {
                throw new StackOverflowError("a handler recursed");
            });
            fd.signal();
            loop.thread().join(TimeUnit.SECONDS.toMillis(5));
            assertThat(loop.thread().isAlive()).isFalse();

            assertThatThrownBy(() -> loop.schedule(Duration.ZERO, () -> {}))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("event loop test-loop died: java.lang.StackOverflowError: a handler recursed");
        }
    }

    @Test
    void unregisteredEventFdNoLongerRunsItsHandler() throws Exception {
        try (EventLoop loop = EventLoop.start("test-loop");
                EventFd fd = EventFd.create()) {
            AtomicLong calls = new AtomicLong();
            long token = loop.register(fd, n -> calls.incrementAndGet());
            loop.unregister(token);
            fd.signal();
            CountDownLatch fence = new CountDownLatch(1);
            loop.schedule(Duration.ofMillis(50), fence::countDown);
            assertThat(fence.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(calls.get()).isZero();
        }
    }

    /**
     * An eventfd closed before its unregister stays in the epoll set while another reference to its file
     * lives (KVM's irqfd holds one): each signal may wake the loop, but must not keep waking it.
     */
    @Test
    void anEventFdClosedBeforeItsUnregisterDoesNotKeepWakingTheLoop() throws Exception {
        try (EventLoop loop = EventLoop.start("closed-fd-loop")) {
            EventFd closedFirst = EventFd.create();
            try (EventFd elsewhere = EventFd.adopt(closedFirst.fd().duplicate())) {
                long token = loop.register(closedFirst, n -> {});
                closedFirst.close();
                loop.unregister(token);
                elsewhere.signal();
                long before = NativeThreads.cpuTicks("closed-fd-loop");
                CountDownLatch fence = new CountDownLatch(1);
                loop.schedule(Duration.ofMillis(300), fence::countDown);
                assertThat(fence.await(5, TimeUnit.SECONDS)).isTrue();
                assertThat(NativeThreads.cpuTicks("closed-fd-loop") - before)
                        .as("clock ticks of the loop thread's CPU in 300 ms")
                        .isLessThan(5);
            }
        }
    }

    @Test
    void scheduledTasksRunInDeadlineOrder() throws Exception {
        try (EventLoop loop = EventLoop.start("test-loop")) {
            List<String> order = new CopyOnWriteArrayList<>();
            CountDownLatch done = new CountDownLatch(3);
            loop.schedule(Duration.ofMillis(60), () -> {
                order.add("late");
                done.countDown();
            });
            loop.schedule(Duration.ofMillis(10), () -> {
                order.add("early");
                done.countDown();
            });
            loop.execute(() -> {
                order.add("now");
                done.countDown();
            });
            assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(order).containsExactly("now", "early", "late");
        }
    }

    @Test
    void cancelledTaskDoesNotRun() throws Exception {
        try (EventLoop loop = EventLoop.start("test-loop")) {
            AtomicLong runs = new AtomicLong();
            EventLoop.Scheduled task = loop.schedule(Duration.ofMillis(30), runs::incrementAndGet);
            assertThat(task.cancel()).isTrue();
            CountDownLatch fence = new CountDownLatch(1);
            loop.schedule(Duration.ofMillis(80), fence::countDown);
            assertThat(fence.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(runs.get()).isZero();
        }
    }

    @Test
    void throwingHandlerDoesNotStopTheLoop() throws Exception {
        try (EventLoop loop = EventLoop.start("test-loop");
                EventFd fd = EventFd.create()) {
            CountDownLatch first = new CountDownLatch(1);
            CountDownLatch second = new CountDownLatch(2);
            loop.register(fd, n -> {
                first.countDown();
                second.countDown();
                throw new IllegalStateException("handler failure (expected by the test)");
            });
            fd.signal();
            // Signalled again only after the first call threw: two signals before it would be one call.
            assertThat(first.await(5, TimeUnit.SECONDS)).isTrue();
            fd.signal();
            assertThat(second.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(loop.thread().isAlive()).isTrue();
        }
    }

    @Test
    void closeJoinsTheThreadAndLeavesNoFdBehind() throws Exception {
        int fds = Resources.openFds();
        EventLoop loop = EventLoop.start("test-loop");
        try (EventFd fd = EventFd.create()) {
            loop.register(fd, n -> {});
            loop.schedule(Duration.ofSeconds(30), () -> {});
            loop.close();
        }
        assertThat(loop.thread().isAlive()).isFalse();
        assertThat(Resources.openFds()).isEqualTo(fds);
        loop.close();
    }
}
