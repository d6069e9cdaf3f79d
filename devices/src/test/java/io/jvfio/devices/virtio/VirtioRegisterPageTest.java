package io.jvfio.devices.virtio;

import static io.jvfio.devices.virtio.SplitVirtqueue.DESC_F_WRITE;
import static io.jvfio.devices.virtio.VirtioMmioRegisters.*;
import static io.jvfio.devices.virtio.VirtioTestDriver.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.DeviceOptions;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.Poller;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page of register values a jvfio client maps for reads only: through the real client's mapping of
 * the served region, every register reads there what a REGION_READ returns, at every step of a driver's
 * life, and InterruptStatus is in the page by the time the interrupt's eventfd fires.
 */
class VirtioRegisterPageTest {
    @TempDir
    Path directory;

    private VirtioTestDriver driver;
    private Mapping page;

    @BeforeEach
    void serve() throws Exception {
        driver = VirtioTestDriver.start(
                directory, VirtioRng.create(DeviceOptions.defaults().withSeed(7)));
        page = driver.client.map(VirtioMmioDevice.REGS_REGION, 0, REGION_SIZE);
    }

    @AfterEach
    void stop() {
        page.close();
        driver.close();
    }

    /** Every 32-bit word of the page against the same word read as a message, which the device answers. */
    private void assertPageMatchesReads(String when) throws IOException {
        for (int offset = 0; offset < REGION_SIZE; offset += 4) {
            assertThat(page.getInt(offset))
                    .as("%s: the page at 0x%x", when, offset)
                    .isEqualTo(driver.read(offset));
        }
    }

    @Test
    void thePageReadsAsTheRegistersDoThroughADriversLife() throws Exception {
        assertPageMatchesReads("fresh");
        assertThat(page.getInt(MAGIC_VALUE)).isEqualTo(MAGIC);
        assertThat(page.getInt(DEVICE_ID)).isEqualTo(4);

        driver.negotiate(FEATURE_VERSION_1);
        assertThat(page.getInt(STATUS)).isEqualTo(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        assertThat(page.getInt(DEVICE_FEATURES))
                .as("the high word, selected last")
                .isEqualTo(1);
        assertPageMatchesReads("negotiated");

        driver.setUpQueue(64);
        assertThat(page.getInt(QUEUE_NUM_MAX)).isEqualTo(64);
        assertThat(page.getInt(QUEUE_READY)).isEqualTo(1);
        assertThat(page.getInt(QUEUE_DEVICE_LOW)).isEqualTo((int) (RAM_IOVA + DEVICE_RING));
        assertPageMatchesReads("queue 0 set up");

        driver.write(QUEUE_SEL, 1);
        assertThat(page.getInt(QUEUE_NUM_MAX)).as("no second queue").isZero();
        assertPageMatchesReads("queue 1 selected");
        driver.write(QUEUE_SEL, 0);
        driver.write(DEVICE_FEATURES_SEL, 0);
        assertThat(page.getInt(DEVICE_FEATURES)).isEqualTo((int) VirtioMmioDevice.FEATURE_INDIRECT_DESC);
        driver.driverOk();
        assertPageMatchesReads("DRIVER_OK");

        driver.write(STATUS, 0);
        assertThat(page.getInt(STATUS)).isZero();
        assertThat(page.getInt(QUEUE_READY)).isZero();
        assertPageMatchesReads("reset");
    }

    @Test
    void interruptStatusIsInThePageWhenTheLineFiresAndLeavesItAtTheAck() throws Exception {
        driver.startLikeLinux(64);
        driver.descriptor(DESCRIPTORS, 0, RAM_IOVA + BUFFERS, 16, DESC_F_WRITE, 0);
        driver.makeAvailable(0);
        assertThat(page.getInt(INTERRUPT_STATUS)).isZero();

        // Not the fixture's write, which waits for the serving: the eventfd alone says the line rose.
        driver.client.write(VirtioMmioDevice.REGS_REGION, QUEUE_NOTIFY, 4, 0);
        assertThat(Poller.readable(driver.trigger.fd(), 2000))
                .as("the interrupt")
                .isTrue();
        assertThat(page.getInt(INTERRUPT_STATUS)).isEqualTo(INTERRUPT_USED_BUFFER);
        assertPageMatchesReads("interrupting");

        driver.write(INTERRUPT_ACK, INTERRUPT_USED_BUFFER);
        assertThat(page.getInt(INTERRUPT_STATUS)).isZero();
        assertPageMatchesReads("acknowledged");
    }
}
