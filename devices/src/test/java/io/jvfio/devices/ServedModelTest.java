package io.jvfio.devices;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.virtio.VirtioMmioDevice;
import io.jvfio.devices.virtio.VirtioMmioRegisters;
import io.jvfio.vfio.RegionIoEventFd;
import io.jvfio.vfiouser.client.VfioUserDevice;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code jvfio serve} puts on the socket: the model itself, with a log of its clients around it. */
class ServedModelTest {
    @TempDir
    Path directory;

    @Test
    void theServedWrapperPassesOnEveryMethodOfTheModel() {
        List<String> missing = Arrays.stream(DeviceModel.class.getMethods())
                .filter(method -> !Modifier.isStatic(method.getModifiers()))
                .filter(method -> {
                    try {
                        Method own = ServeMain.ClientLog.class.getDeclaredMethod(
                                method.getName(), method.getParameterTypes());
                        return own.getDeclaringClass() != ServeMain.ClientLog.class;
                    } catch (NoSuchMethodException e) {
                        return true;
                    }
                })
                .map(Method::getName)
                .toList();

        assertThat(missing)
                .as("DeviceModel methods the wrapper leaves at their default")
                .isEmpty();
    }

    @Test
    void aServedVirtioDeviceOffersItsPostedQueueNotifyAndInterruptAck() throws Exception {
        Path socket = directory.resolve("rng.sock");
        StringWriter log = new StringWriter();
        try (ModelledDevice rng = DeviceCatalog.create("virtio-rng", DeviceOptions.defaults());
                VfioUserServer server =
                        VfioUserServer.start(socket, new ServeMain.ClientLog(rng, new PrintWriter(log)));
                VfioUserDevice client = VfioUserDevice.connect(socket)) {
            List<RegionIoEventFd> offered = client.regionIoEventFds(VirtioMmioDevice.REGS_REGION);
            try {
                assertThat(offered)
                        .extracting(RegionIoEventFd::offset, RegionIoEventFd::datamatch)
                        .containsExactly(
                                Tuple.tuple((long) VirtioMmioRegisters.QUEUE_NOTIFY, OptionalLong.of(0)),
                                Tuple.tuple(
                                        (long) VirtioMmioRegisters.INTERRUPT_ACK,
                                        OptionalLong.of(VirtioMmioRegisters.INTERRUPT_USED_BUFFER)));
            } finally {
                offered.forEach(RegionIoEventFd::close);
            }
        }
        assertThat(log.toString()).contains("client 1 connected");
    }
}
