package io.jvfio.sys.libc;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.Epoll;
import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.testing.CProbe;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The signal kick vCPUs use: SIGURG interrupts a thread's blocking call and does nothing else. */
class SignalsTest {
    private static final long SIGURG_BIT = 1L << (Libc.SIGURG - 1);

    @Test
    @Timeout(120)
    void sigurgInterruptsABlockingCallOfTheThreadItIsSentTo() throws Exception {
        Libc.interruptOnSignal(Libc.SIGURG);
        Libc.interruptOnSignal(Libc.SIGURG);
        CompletableFuture<Integer> target = new CompletableFuture<>();
        CompletableFuture<Integer> events = new CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().name("epoll waiter").start(() -> {
            try (Epoll epoll = Epoll.create(1)) {
                target.complete(Libc.gettid());
                events.complete(epoll.await((int) TimeUnit.MINUTES.toMillis(10)));
            } catch (ErrnoException e) {
                events.completeExceptionally(e);
            }
        });
        int thread = target.get(30, TimeUnit.SECONDS);
        // The first signal may land before epoll_wait starts; a later one finds it waiting.
        while (waiter.isAlive() && !events.isDone()) {
            assertThat(Libc.tgkill(Libc.getpid(), thread, Libc.SIGURG)).isZero();
            waiter.join(10);
        }
        waiter.join();
        assertThat(events.get())
                .as("epoll_wait woken by the signal, not by an event")
                .isZero();
    }

    @Test
    void aSigurgSentToAnyThreadLeavesTheProcessRunning() throws Exception {
        Libc.interruptOnSignal(Libc.SIGURG);
        assertThat(Libc.tgkill(Libc.getpid(), Libc.gettid(), Libc.SIGURG)).isZero();
        assertThat(Libc.getpid()).isEqualTo((int) ProcessHandle.current().pid());
    }

    @Test
    void tgkillToNoSuchThreadReportsEsrch() {
        // Thread ids stay below pid_max, at most 2^22.
        assertThat(Libc.tgkill(Libc.getpid(), Integer.MAX_VALUE, Libc.SIGURG)).isEqualTo(-Errno.ESRCH);
    }

    @Test
    void signalMaskReportsThePreviousMask() throws Exception {
        long before = Libc.signalMask(Libc.SIG_BLOCK, SIGURG_BIT);
        try {
            long during = Libc.signalMask(Libc.SIG_BLOCK, 0);
            assertThat(during & SIGURG_BIT).isEqualTo(SIGURG_BIT);
        } finally {
            Libc.signalMask(Libc.SIG_SETMASK, before);
        }
    }

    @Test
    void sigactionLayoutAndConstantsEqualGlibcs() throws Exception {
        Map<String, Long> c = CProbe.run("""
                #define _GNU_SOURCE
                #include <signal.h>
                #include <stddef.h>
                #include <stdio.h>
                int main(void) {
                    printf("size %zu\\n", sizeof(struct sigaction));
                    printf("handler %zu\\n", offsetof(struct sigaction, sa_handler));
                    printf("mask %zu\\n", offsetof(struct sigaction, sa_mask));
                    printf("flags %zu\\n", offsetof(struct sigaction, sa_flags));
                    printf("sa_restart %d\\n", SA_RESTART);
                    printf("sigurg %d\\n", SIGURG);
                    printf("sigset %zu\\n", sizeof(sigset_t));
                    return 0;
                }
                """);
        assertThat(c)
                .containsEntry("size", Libc.SIGACTION_SIZE)
                .containsEntry("handler", Libc.SIGACTION_HANDLER)
                .containsEntry("mask", Libc.SIGACTION_MASK)
                .containsEntry("flags", Libc.SIGACTION_FLAGS)
                .containsEntry("sa_restart", (long) Libc.SA_RESTART)
                .containsEntry("sigurg", (long) Libc.SIGURG)
                .containsEntry("sigset", Libc.SIGACTION_FLAGS - Libc.SIGACTION_MASK);
    }

    @Test
    void sigeventLayoutAndConstantsEqualGlibcs() throws Exception {
        Map<String, Long> c = CProbe.run("""
                #define _GNU_SOURCE
                #include <signal.h>
                #include <stddef.h>
                #include <stdio.h>
                #include <time.h>
                int main(void) {
                    printf("size %zu\\n", sizeof(struct sigevent));
                    printf("signo %zu\\n", offsetof(struct sigevent, sigev_signo));
                    printf("notify %zu\\n", offsetof(struct sigevent, sigev_notify));
                    printf("tid %zu\\n", offsetof(struct sigevent, _sigev_un._tid));
                    printf("thread_id %d\\n", SIGEV_THREAD_ID);
                    printf("monotonic %d\\n", CLOCK_MONOTONIC);
                    return 0;
                }
                """);
        assertThat(c)
                .containsEntry("size", Libc.SIGEVENT_SIZE)
                .containsEntry("signo", Libc.SIGEVENT_SIGNO)
                .containsEntry("notify", Libc.SIGEVENT_NOTIFY)
                .containsEntry("tid", Libc.SIGEVENT_THREAD_ID)
                .containsEntry("thread_id", (long) Libc.SIGEV_THREAD_ID)
                .containsEntry("monotonic", (long) Libc.CLOCK_MONOTONIC);
    }
}
