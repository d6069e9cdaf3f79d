package io.jvfio.devices.virtio;

import static io.jvfio.devices.virtio.SplitVirtqueue.DESC_F_WRITE;
import static io.jvfio.devices.virtio.VirtioMmioRegisters.*;
import static io.jvfio.devices.virtio.VirtioTestDriver.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-rng served to a client whose RAM the device reaches only through DMA_READ / DMA_WRITE messages
 * on the main socket (no twin socket, no fd): the queue thread holds the device's lock across a buffer,
 * its DMA included, while a register access that needs that lock waits on the server's connection
 * thread. The DMA timeout is short, so that a DMA whose reply nobody reads fails the test in 2 s.
 */
class VirtioDmaOnTheMainSocketTest {
    private static final long SEED = 0x5EED;
    private static final Duration DMA_TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    Path directory;

    private final GatedRng rng = new GatedRng();
    private VirtioTestDriver driver;

    @AfterEach
    void stop() {
        // a failed test may have left the queue thread at the gate, with the device's lock
        rng.gate.countDown();
        if (driver != null) {
            driver.close();
        }
    }

    @Test
    void aBufferServedWhileARegisterReadWaitsForTheDeviceLockIsUsedWithoutNeedingAReset() throws Exception {
        driver = VirtioTestDriver.startWithDmaOnTheMainSocket(directory, new VirtioMmioDevice(rng), DMA_TIMEOUT);
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 64, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.client.write(VirtioMmioDevice.REGS_REGION, QUEUE_NOTIFY, 4, 0);
        assertThat(rng.entered.await(5, TimeUnit.SECONDS))
                .as("the queue thread serves the buffer")
                .isTrue();

        CompletableFuture<Integer> statusRead = readOnAnotherThread(INTERRUPT_STATUS);
        awaitTheConnectionThreadBlocked();
        // the buffer's DMA_WRITE goes out while that read waits for the lock, and the client answers it
        rng.gate.countDown();

        statusRead.get(5, TimeUnit.SECONDS);
        assertThat(driver.awaitInterrupt()).as("the IRQ fired").isTrue();
        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET)
                .as("DEVICE_NEEDS_RESET: set when the buffer's DMA fails, as at the DMA timeout")
                .isZero();
        assertThat(driver.usedIndex()).isEqualTo(1);
        assertThat(driver.used(0)).containsExactly(0, 64);
        assertThat(driver.ramBytes(BUFFERS, 64)).isEqualTo(seededStream(SEED, 64));
    }

    private CompletableFuture<Integer> readOnAnotherThread(int register) {
        CompletableFuture<Integer> value = new CompletableFuture<>();
        Thread.ofPlatform().name("register read").start(() -> {
            try {
                value.complete(driver.read(register));
            } catch (IOException | RuntimeException e) {
                value.completeExceptionally(e);
            }
        });
        return value;
    }

    /** Waits until the server's connection thread waits for a monitor: the device's lock, in the read. */
    private void awaitTheConnectionThreadBlocked() throws InterruptedException {
        String name = "vfio-user connection " + directory.resolve("virtio.sock");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            boolean blocked = Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(thread -> thread.getName().equals(name) && thread.getState() == Thread.State.BLOCKED);
            if (blocked) {
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("the connection's thread did not come to wait for the device's lock");
    }

    /**
     * The seeded virtio-rng, whose serving of a buffer waits at a gate first: the queue thread holds the
     * device's lock there, and the buffer's DMA comes once the gate opens.
     */
    private static final class GatedRng implements VirtioBackend {
        private final VirtioRng rng = new VirtioRng(EntropySource.seeded(SEED));
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch gate = new CountDownLatch(1);

        @Override
        public String kind() {
            return rng.kind();
        }

        @Override
        public int deviceId() {
            return rng.deviceId();
        }

        @Override
        public List<Integer> queueSizes() {
            return rng.queueSizes();
        }

        @Override
        public int serve(int queue, DescriptorChain chain, GuestMemory memory) throws MalformedQueueException {
            entered.countDown();
            try {
                if (!gate.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never opened the gate");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted at the gate", e);
            }
            return rng.serve(queue, chain, memory);
        }

        @Override
        public String describe() {
            return "gated " + rng.describe();
        }

        @Override
        public Map<String, Long> totals() {
            return rng.totals();
        }
    }
}
