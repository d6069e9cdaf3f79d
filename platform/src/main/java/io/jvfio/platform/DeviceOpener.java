package io.jvfio.platform;

import io.jvfio.platform.config.DeviceSource;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.vfio.IommufdMode;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfio.kernel.KernelVfio;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;

/**
 * Opens the device a configuration names through the backend its source selects: {@code socket} over
 * vfio-user, {@code host}/{@code sysfsdev} through kernel VFIO. One opener per VM, since kernel groups
 * and containers are shared among a VM's devices; closing it releases them after the devices.
 */
public final class DeviceOpener implements AutoCloseable {
    private final Map<IommufdMode, KernelVfio> kernel = new EnumMap<>(IommufdMode.class);

    public synchronized VfioDevice open(PlatformDeviceConfig config) throws IOException {
        return switch (config.source()) {
            case DeviceSource.Socket socket ->
                VfioUserDevice.connect(
                        socket.path(),
                        VfioUserDevice.Options.defaults()
                                .withReplyTimeout(config.replyTimeout())
                                .withReplyPollMax(config.replyPollMax()));
            case DeviceSource.Host host -> kernel(config.iommufd()).openHost(host.name());
            case DeviceSource.SysfsDevice sysfs -> kernel(config.iommufd()).openSysfsdev(sysfs.path());
        };
    }

    private KernelVfio kernel(IommufdMode mode) {
        return kernel.computeIfAbsent(
                mode, m -> KernelVfio.create(KernelVfio.Options.defaults().withIommufd(m)));
    }

    /** Releases kernel groups and containers; close the devices first. */
    @Override
    public synchronized void close() {
        kernel.values().forEach(KernelVfio::close);
        kernel.clear();
    }
}
