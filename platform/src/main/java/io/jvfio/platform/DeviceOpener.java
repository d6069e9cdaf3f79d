package io.jvfio.platform;

import io.jvfio.platform.config.DeviceSource;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfio.kernel.KernelVfio;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.io.IOException;

/**
 * Opens the device a configuration names through the backend its source selects: {@code socket} over
 * vfio-user, {@code host}/{@code sysfsdev} through kernel VFIO. One opener per VM, since kernel groups
 * and containers are shared among a VM's devices whatever each one's {@code iommufd} says (a device of a
 * group the VM holds opens through it); closing it releases them after the devices.
 */
public final class DeviceOpener implements AutoCloseable {
    private KernelVfio kernel;

    public synchronized VfioDevice open(PlatformDeviceConfig config) throws IOException {
        return switch (config.source()) {
            case DeviceSource.Socket socket ->
                VfioUserDevice.connect(
                        socket.path(),
                        VfioUserDevice.Options.defaults()
                                .withReplyTimeout(config.replyTimeout())
                                .withReplyPollMax(config.replyPollMax()));
            case DeviceSource.Host host -> kernel().openHost(host.name(), config.iommufd());
            case DeviceSource.SysfsDevice sysfs -> kernel().openSysfsdev(sysfs.path(), config.iommufd());
        };
    }

    private KernelVfio kernel() {
        if (kernel == null) {
            kernel = KernelVfio.create();
        }
        return kernel;
    }

    /** Releases kernel groups and containers; close the devices first. */
    @Override
    public synchronized void close() {
        if (kernel != null) {
            kernel.close();
            kernel = null;
        }
    }
}
