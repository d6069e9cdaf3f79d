package io.jvfio.vfio.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.Fd;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.IommufdMode;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfio.VfioException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@link KernelVfioDevice} whose device fd and iommufd are regular files: every VFIO ioctl on them
 * fails with ENOTTY, which is enough to see what a caller gets before and after close without
 * /dev/vfio.
 */
class KernelVfioDeviceTest {
    private static final String NAME = "fff51000.ethernet";

    @TempDir
    Path sysfsRoot;

    @TempDir
    Path devRoot;

    private SysfsDevice sysfs;

    @BeforeEach
    void setUp() throws Exception {
        new FakeSysfs(sysfsRoot).xgmac();
        sysfs = new SysfsDiscovery(sysfsRoot).byHost(NAME);
    }

    private Fd regularFile(String name) throws Exception {
        return Fd.openReadWrite(Files.writeString(devRoot.resolve(name), "").toString());
    }

    /** Attached the way {@link KernelVfio} attaches an iommufd device: the IOAS has it as its one user. */
    private KernelVfioDevice device(KernelVfio vfio) throws Exception {
        DmaSpace.IommufdIoas ioas = new DmaSpace.IommufdIoas(regularFile("iommu"), 1);
        ioas.retain();
        return new KernelVfioDevice(vfio, sysfs, regularFile("vfio0"), KernelVfio.Backend.IOMMUFD, ioas, null);
    }

    private interface Call {
        void on(VfioDevice device) throws Exception;
    }

    @Test
    void callsThatReachTheKernelNameWhatFailedWithTheIoctlAndErrno() throws Exception {
        try (KernelVfio vfio = KernelVfio.create(new KernelVfio.Options(sysfsRoot, devRoot, IommufdMode.ON));
                KernelVfioDevice device = device(vfio)) {
            assertThatThrownBy(device::info)
                    .isExactlyInstanceOf(VfioException.class)
                    .hasMessage("vfio " + NAME + ": failed to get device info: VFIO_DEVICE_GET_INFO failed:"
                            + " Inappropriate ioctl for device (ENOTTY)");
            assertThatThrownBy(() -> device.setIrqs(IrqSet.disableAll(1)))
                    .isExactlyInstanceOf(VfioException.class)
                    .hasMessage("vfio " + NAME + ": failed to trigger IRQ index 1 [0, +0): VFIO_DEVICE_SET_IRQS failed:"
                            + " Inappropriate ioctl for device (ENOTTY)");
        }
    }

    @Test
    void everyCallAfterCloseFailsAsTheApiSaysWithDeviceIsClosed() throws Exception {
        int fdsBefore = Resources.openFds();
        try (KernelVfio vfio = KernelVfio.create(new KernelVfio.Options(sysfsRoot, devRoot, IommufdMode.ON))) {
            KernelVfioDevice device = device(vfio);
            assertThatThrownBy(device::info)
                    .as("open, the call reaches the kernel")
                    .isInstanceOf(VfioException.class)
                    .hasMessageContaining("VFIO_DEVICE_GET_INFO failed: Inappropriate ioctl for device (ENOTTY)");

            device.close();

            List<Call> calls = List.of(
                    VfioDevice::info,
                    d -> d.regionInfo(0),
                    d -> d.irqInfo(0),
                    d -> d.read(0, 0, 4),
                    d -> d.write(0, 0, 4, 1),
                    d -> d.read(0, 0, new byte[8]),
                    d -> d.write(0, 0, new byte[8]),
                    d -> d.map(0, 0, 4096),
                    d -> d.setIrqs(IrqSet.disableAll(0)),
                    VfioDevice::reset,
                    d -> d.unmapDma(0x100000, 4096));
            for (int i = 0; i < calls.size(); i++) {
                Call call = calls.get(i);
                assertThatThrownBy(() -> call.on(device))
                        .as("call %d after close", i)
                        .isExactlyInstanceOf(VfioException.class)
                        .hasMessage("vfio " + NAME + ": device is closed");
            }
        }
        assertThat(Resources.openFds()).isEqualTo(fdsBefore);
    }
}
