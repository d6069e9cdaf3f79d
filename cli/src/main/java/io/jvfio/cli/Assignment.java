package io.jvfio.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.platform.DeviceOpener;
import io.jvfio.platform.VfioPlatformDevice;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfio.VfioException;

/**
 * A machine with devices assigned, built in the order that reports a user's mistake first: every device
 * is opened and checked to be a platform device before KVM is touched, so a bad socket or a PCI device is
 * named even on a machine without /dev/kvm. Closing tears down the devices, then the machine, then the
 * kernel VFIO state.
 */
final class Assignment implements AutoCloseable {
    private final DeviceOpener opener = new DeviceOpener();
    private final List<VfioDevice> unrealized = new ArrayList<>();
    private final List<VfioPlatformDevice> devices = new ArrayList<>();
    private Machine machine;

    private Assignment() {
    }

    /** Opens and checks each device, then creates the machine and realizes the devices on it. */
    static Assignment create(MachineConfig machineConfig, List<PlatformDeviceConfig> configs) throws IOException {
        Assignment assignment = new Assignment();
        try {
            for (PlatformDeviceConfig config : configs) {
                assignment.unrealized.add(openPlatformDevice(assignment.opener, config));
            }
            assignment.machine = Machine.create(machineConfig);
            for (int i = 0; i < configs.size(); i++) {
                VfioDevice device = assignment.unrealized.set(i, null);
                assignment.devices.add(VfioPlatformDevice.realize(assignment.machine, configs.get(i), device));
            }
            assignment.unrealized.clear();
            return assignment;
        } catch (IOException | RuntimeException e) {
            assignment.close();
            throw e;
        }
    }

    /** Opens the device {@code config} names and refuses one that is not a platform device. */
    static VfioDevice openPlatformDevice(DeviceOpener opener, PlatformDeviceConfig config) throws IOException {
        VfioDevice device = opener.open(config);
        try {
            DeviceInfo info = device.info();
            if (!info.isPlatform()) {
                throw new VfioException(config.id(), "not a platform device (flags " + info.flagNames()
                        + "): only VFIO platform devices can be assigned");
            }
            return device;
        } catch (IOException | RuntimeException e) {
            device.close();
            throw e;
        }
    }

    Machine machine() {
        return machine;
    }

    List<VfioPlatformDevice> devices() {
        return devices;
    }

    @Override
    public void close() {
        for (VfioPlatformDevice device : devices.reversed()) {
            device.close();
        }
        for (VfioDevice device : unrealized) {
            if (device != null) {
                device.close();
            }
        }
        if (machine != null) {
            machine.close();
        }
        opener.close();
    }
}
