package io.jvfio.sys.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import org.junit.jupiter.api.Test;

/**
 * KVM_RUN's errno, which the fast call does not capture, still reaches the error: the failed call is
 * issued again with errno captured. Runs anywhere: an eventfd is not a vCPU.
 */
class KvmRunErrnoTest {
    @Test
    void aFailedRunReportsTheCallAndItsErrno() throws Exception {
        try (EventFd notAVcpu = EventFd.create()) {
            assertThatThrownBy(() -> KvmIoctls.run(notAVcpu.fd()))
                    .isInstanceOf(ErrnoException.class)
                    .hasMessage("KVM_RUN failed: Inappropriate ioctl for device (ENOTTY)")
                    .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.ENOTTY));
        }
    }
}
