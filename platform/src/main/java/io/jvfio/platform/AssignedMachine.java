package io.jvfio.platform;

import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.vfio.VfioDevice;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A machine with VFIO platform devices assigned, built in the order that reports a user's mistake first:
 * every device is opened and checked to be a platform device before KVM is touched, so a bad socket or a
 * PCI device is named even on a host without /dev/kvm; then the machine is created and each device
 * realized on it, in the order given. Closing tears down the devices in reverse (each returns its MMIO
 * window and GSIs to the machine's platform bus), then the machine, then the kernel VFIO groups and
 * containers. A failure part-way undoes everything done so far.
 */
public final class AssignedMachine implements AutoCloseable {
    private final DeviceOpener opener = new DeviceOpener();
    private final List<VfioDevice> opened = new ArrayList<>();
    private final List<VfioPlatformDevice> devices = new ArrayList<>();
    private Machine machine;

    private AssignedMachine() {}

    /** Opens and checks each device, then creates the machine and realizes the devices on it. */
    public static AssignedMachine create(MachineConfig machineConfig, List<PlatformDeviceConfig> configs)
            throws IOException {
        AssignedMachine assembly = new AssignedMachine();
        try {
            for (PlatformDeviceConfig config : configs) {
                assembly.opened.add(openPlatformDevice(assembly.opener, config));
            }
            assembly.machine = Machine.create(machineConfig);
            for (int i = 0; i < configs.size(); i++) {
                VfioDevice device = assembly.opened.set(i, null);
                assembly.devices.add(VfioPlatformDevice.realize(assembly.machine, configs.get(i), device));
            }
            assembly.opened.clear();
            return assembly;
        } catch (IOException | RuntimeException e) {
            assembly.close();
            throw e;
        }
    }

    /** Opens the device {@code config} names and refuses one that is not a platform device. */
    private static VfioDevice openPlatformDevice(DeviceOpener opener, PlatformDeviceConfig config) throws IOException {
        VfioDevice device = opener.open(config);
        try {
            VfioPlatformDevice.requirePlatform(config.id(), device.info());
            return device;
        } catch (IOException | RuntimeException e) {
            device.close();
            throw e;
        }
    }

    public Machine machine() {
        return machine;
    }

    /** The assigned devices, in the order their configurations were given. */
    public List<VfioPlatformDevice> devices() {
        return Collections.unmodifiableList(devices);
    }

    @Override
    public void close() {
        for (VfioPlatformDevice device : devices.reversed()) {
            device.close();
        }
        for (VfioDevice device : opened) {
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
