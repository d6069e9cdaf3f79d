package io.jvfio.sys;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The blocked-signal kick that vCPUs use: a SIGURG sent to a thread that blocks it stays pending until taken. */
class SignalsTest {
    private static final long SIGURG_BIT = 1L << (Libc.SIGURG - 1);

    @Test
    void blockedSigurgSentToThisThreadIsTakenBySigtimedwaitOnce() throws Exception {
        long old = Libc.pthreadSigmask(Libc.SIG_BLOCK, SIGURG_BIT);
        try {
            assertThat(Libc.sigtimedwaitNow(SIGURG_BIT)).isZero();
            assertThat(Libc.pthreadKill(Libc.pthreadSelf(), Libc.SIGURG)).isZero();
            assertThat(Libc.sigtimedwaitNow(SIGURG_BIT)).isEqualTo(Libc.SIGURG);
            assertThat(Libc.sigtimedwaitNow(SIGURG_BIT)).isZero();
        } finally {
            Libc.pthreadSigmask(Libc.SIG_SETMASK, old);
        }
    }

    @Test
    void pthreadSigmaskReportsThePreviousMask() throws Exception {
        long before = Libc.pthreadSigmask(Libc.SIG_BLOCK, SIGURG_BIT);
        try {
            long during = Libc.pthreadSigmask(Libc.SIG_BLOCK, 0);
            assertThat(during & SIGURG_BIT).isEqualTo(SIGURG_BIT);
        } finally {
            Libc.pthreadSigmask(Libc.SIG_SETMASK, before);
        }
    }
}
