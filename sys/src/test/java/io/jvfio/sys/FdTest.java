package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.libc.Libc;
import io.jvfio.sys.testing.NativeThreads;
import io.jvfio.sys.testing.Resources;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FdTest {
    @Test
    void openMissingFileNamesPathAndErrno() {
        assertThatThrownBy(() -> Fd.openReadOnly("/nonexistent/jvfio"))
                .isInstanceOf(ErrnoException.class)
                .hasMessage("open /nonexistent/jvfio failed: No such file or directory (ENOENT)")
                .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.ENOENT));
    }

    @Test
    void ioctlOnBadFdReportsEbadf() {
        assertThatThrownBy(() -> Libc.ioctl(-1, 0xAE00, 0, "KVM_GET_API_VERSION"))
                .isInstanceOf(ErrnoException.class)
                .hasMessage("KVM_GET_API_VERSION failed: Bad file descriptor (EBADF)");
    }

    @Test
    void errnoIsCapturedPerThread() throws Exception {
        // What the other thread saw: its assertions fail there, so the test thread checks this.
        List<Integer> otherErrnos = Collections.synchronizedList(new ArrayList<>());
        Thread other = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 1000; i++) {
                try {
                    Libc.ioctl(-1, 0, 0, "x");
                    otherErrnos.add(0);
                } catch (ErrnoException e) {
                    otherErrnos.add(e.errno());
                }
            }
        });
        for (int i = 0; i < 1000; i++) {
            assertThatThrownBy(() -> Fd.openReadOnly("/nonexistent/jvfio"))
                    .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.ENOENT));
        }
        other.join();
        assertThat(otherErrnos).hasSize(1000).containsOnly(Errno.EBADF);
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseFails() throws Exception {
        int before = Resources.openFds();
        Fd fd = Fd.openReadOnly("/dev/null");
        assertThat(Resources.openFds()).isEqualTo(before + 1);
        fd.close();
        fd.close();
        assertThat(Resources.openFds()).isEqualTo(before);
        assertThatThrownBy(fd::get)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("/dev/null is closed");
    }

    @Test
    void preadAndPwriteUseTheGivenOffset(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("data");
        Files.write(file, new byte[16]);
        try (Fd fd = Fd.openReadWrite(file.toString())) {
            fd.pwrite(ByteBuffer.wrap(new byte[] {1, 2, 3}), 5);
            ByteBuffer direct = ByteBuffer.allocateDirect(4);
            assertThat(fd.pread(direct, 4)).isEqualTo(4);
            direct.flip();
            assertThat(new byte[] {direct.get(), direct.get(), direct.get(), direct.get()})
                    .containsExactly(0, 1, 2, 3);
        }
        assertThat(Files.readAllBytes(file)[7]).isEqualTo((byte) 3);
    }

    @Test
    void duplicateIsIndependentOfTheOriginal() throws Exception {
        try (Fd fd = Fd.openReadOnly("/dev/null");
                Fd copy = fd.duplicate()) {
            assertThat(copy.get()).isNotEqualTo(fd.get());
            fd.close();
            assertThat(copy.isOpen()).isTrue();
        }
    }

    @Test
    void aCloseDuringAUseLeavesTheNumberToTheUseAndItsEndClosesIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("held");
        Files.write(file, new byte[1]);
        Fd fd = Fd.openReadOnly(file.toString());
        int number = fd.beginUse();
        fd.close();
        assertThat(fd.isOpen()).isFalse();
        assertThatThrownBy(fd::beginUse)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is closed");
        assertThat(Resources.fileBehind(number)).contains(file.toString());
        fd.endUse();
        assertThat(Resources.fileBehind(number)).isNotEqualTo(Optional.of(file.toString()));
    }

    @Test
    void anEventFdClosedUnderABlockedReadKeepsItsNumberUntilTheReadReturns() throws Exception {
        EventFd eventFd = EventFd.create();
        int number = eventFd.fd().get();
        try (Fd writer = eventFd.fd().duplicate()) {
            AtomicLong read = new AtomicLong(-1);
            Thread reader = Thread.ofPlatform().name("fd-test-reader").start(() -> {
                try {
                    read.set(eventFd.read());
                } catch (ErrnoException e) {
                    throw new IllegalStateException(e);
                }
            });
            while (!NativeThreads.blockedInASystemCallOn("fd-test-reader", number)) {
                Thread.sleep(1);
            }
            eventFd.close();
            assertThat(Resources.fileBehind(number)).contains("anon_inode:[eventfd]");
            EventFd.adopt(writer.duplicate()).signal();
            reader.join();
            assertThat(read.get()).isEqualTo(1);
        }
        assertThat(Resources.fileBehind(number)).isNotEqualTo(Optional.of("anon_inode:[eventfd]"));
    }
}
