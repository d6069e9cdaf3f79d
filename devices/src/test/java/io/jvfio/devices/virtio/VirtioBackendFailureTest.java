package io.jvfio.devices.virtio;

import static io.jvfio.devices.virtio.SplitVirtqueue.DESC_F_WRITE;
import static io.jvfio.devices.virtio.VirtioMmioRegisters.*;
import static io.jvfio.devices.virtio.VirtioTestDriver.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport around a device type whose serving fails with an unchecked exception: the queue thread
 * must outlive it, so that the driver's reset brings the device back.
 */
class VirtioBackendFailureTest {
    @TempDir
    Path directory;

    private VirtioTestDriver driver;

    /** An entropy device whose first request fails as a bug in it would; the later ones get 0x5A bytes. */
    private static final class FailingOnceRng implements VirtioBackend {
        private boolean failed;

        @Override
        public String kind() {
            return "failing-rng";
        }

        @Override
        public int deviceId() {
            return VirtioRng.DEVICE_ID;
        }

        @Override
        public List<Integer> queueSizes() {
            return List.of(8);
        }

        @Override
        public int serve(int queue, DescriptorChain chain, GuestMemory memory) throws MalformedQueueException {
            if (!failed) {
                failed = true;
                throw new IllegalStateException("a bug of the device type");
            }
            DescriptorChain.Buffer buffer = chain.buffers().getFirst();
            byte[] bytes = new byte[buffer.length()];
            Arrays.fill(bytes, (byte) 0x5A);
            try {
                memory.write(buffer.address(), bytes, 0, bytes.length);
            } catch (IOException e) {
                throw new MalformedQueueException(e.getMessage());
            }
            return bytes.length;
        }

        @Override
        public String describe() {
            return "fails its first request";
        }

        @Override
        public Map<String, Long> totals() {
            return Map.of();
        }
    }

    @BeforeEach
    void serve() throws Exception {
        driver = VirtioTestDriver.start(directory, new VirtioMmioDevice(new FailingOnceRng()));
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    @Test
    void aDeviceTypesFailureMakesTheDeviceNeedAResetAndTheResetBringsItBack() throws Exception {
        driver.startLikeLinux(8);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 16, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();

        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET).isEqualTo(STATUS_NEEDS_RESET);
        assertThat(driver.read(INTERRUPT_STATUS)).isEqualTo(INTERRUPT_CONFIG_CHANGE);
        assertThat(driver.usedIndex()).isZero();

        driver.startLikeLinux(8);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 16, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.notifyQueue();

        assertThat(driver.usedIndex()).isEqualTo(1);
        assertThat(driver.ramBytes(BUFFERS, 16)).containsOnly((byte) 0x5A);
    }
}
