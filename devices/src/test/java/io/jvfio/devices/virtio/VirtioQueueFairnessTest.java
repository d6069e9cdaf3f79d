package io.jvfio.devices.virtio;

import static io.jvfio.devices.virtio.SplitVirtqueue.DESC_F_WRITE;
import static io.jvfio.devices.virtio.VirtioMmioRegisters.*;
import static io.jvfio.devices.virtio.VirtioTestDriver.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport with a device type of two queues: a driver that keeps queue 0 full must not keep queue 1
 * waiting until it stops.
 */
class VirtioQueueFairnessTest {
    private static final int QUEUE_SIZE = 4;
    /** How many more buffers the driver adds to queue 0 while the device serves it: several rings' worth. */
    private static final int REFILLS = 5 * QUEUE_SIZE;

    private static final long QUEUE1_DESCRIPTORS = 0x4000;
    private static final long QUEUE1_DRIVER_RING = 0x5000;
    private static final long QUEUE1_DEVICE_RING = 0x6000;

    @TempDir
    Path directory;

    private VirtioTestDriver driver;
    private final TwoQueues backend = new TwoQueues();

    /**
     * Two queues that use every buffer without writing to it. Serving a buffer of queue 0 has the driver
     * make another available there, as a driver does that adds buffers while the device drains (it need
     * not notify: the device ring says VIRTQ_USED_F_NO_NOTIFY meanwhile).
     */
    private final class TwoQueues implements VirtioBackend {
        /** The queue of each buffer served, in order; written and read under the transport's lock. */
        final List<Integer> served = new ArrayList<>();

        private int refills;

        @Override
        public String kind() {
            return "two-queues";
        }

        @Override
        public int deviceId() {
            return VirtioRng.DEVICE_ID;
        }

        @Override
        public List<Integer> queueSizes() {
            return List.of(QUEUE_SIZE, QUEUE_SIZE);
        }

        @Override
        public int serve(int queue, DescriptorChain chain, GuestMemory memory) {
            served.add(queue);
            if (queue == 0 && refills < REFILLS) {
                refills++;
                driver.makeAvailable(0);
            }
            return 0;
        }

        @Override
        public String describe() {
            return "two queues";
        }

        @Override
        public Map<String, Long> totals() {
            return Map.of();
        }
    }

    @BeforeEach
    void serve() throws Exception {
        driver = VirtioTestDriver.start(directory, new VirtioMmioDevice(backend));
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    @Test
    void aQueueKeptFullByTheDriverYieldsToTheOtherNotifiedQueueAfterARingsWorth() throws Exception {
        driver.negotiate(FEATURE_VERSION_1);
        driver.setUpQueue(QUEUE_SIZE);
        driver.write(QUEUE_SEL, 1);
        driver.write(QUEUE_NUM, QUEUE_SIZE);
        driver.write(QUEUE_DESC_LOW, (int) (RAM_IOVA + QUEUE1_DESCRIPTORS));
        driver.write(QUEUE_DRIVER_LOW, (int) (RAM_IOVA + QUEUE1_DRIVER_RING));
        driver.write(QUEUE_DEVICE_LOW, (int) (RAM_IOVA + QUEUE1_DEVICE_RING));
        driver.write(QUEUE_READY, 1);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 8, DESC_F_WRITE, 0);
        driver.descriptor(QUEUE1_DESCRIPTORS, 0, RAM_IOVA + BUFFERS + 0x100, 8, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        driver.ram.putShort(QUEUE1_DRIVER_RING + 4, (short) 0);
        driver.ram.putShort(QUEUE1_DRIVER_RING + 2, (short) 1);

        // DRIVER_OK has the device look at both queues at once, queue 0 first.
        driver.driverOk();

        assertThat(driver.read(STATUS) & STATUS_NEEDS_RESET).isZero();
        assertThat(backend.served.subList(0, QUEUE_SIZE + 1))
                .as("queue 1 served after one ring's worth of queue 0, not after the driver stops adding")
                .containsExactly(0, 0, 0, 0, 1);
        assertThat(backend.served).hasSize(REFILLS + 2);
        assertThat(driver.usedIndex()).isEqualTo(REFILLS + 1);
        assertThat(Short.toUnsignedInt(driver.ram.getShort(QUEUE1_DEVICE_RING + 2)))
                .isEqualTo(1);
        assertThat(driver.device.totals())
                .containsEntry("queue0.buffers", (long) REFILLS + 1)
                .containsEntry("queue1.buffers", 1L);
    }
}
