package io.jvfio.machine.acpi;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the ACPI tables describe: the vCPU count (a Local APIC each) and the devices under {@code \_SB}.
 * Device names must differ, and so must the {@code _UID}s of devices with the same {@code _HID}.
 */
public record AcpiConfig(int vcpus, List<AcpiDevice> devices) {
    /** MADT Local APIC entries carry 8-bit APIC IDs, and ID 0xFF is the xAPIC broadcast: IDs 0-254. */
    public static final int MAX_VCPUS = 255;

    public AcpiConfig {
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("ACPI tables describe 1.." + MAX_VCPUS + " vCPUs, got " + vcpus);
        }
        devices = List.copyOf(devices);
        Set<String> names = new HashSet<>();
        Map<String, AcpiDevice> byHidAndUid = new HashMap<>();
        for (AcpiDevice device : devices) {
            if (!names.add(device.name())) {
                throw new IllegalArgumentException("two ACPI devices are named " + device.name());
            }
            String key = device.hardwareId().id() + "/" + device.uid();
            AcpiDevice earlier = byHidAndUid.putIfAbsent(key, device);
            if (earlier != null) {
                throw new IllegalArgumentException("ACPI devices " + earlier.name() + " and " + device.name()
                        + " share _HID " + device.hardwareId().id() + " and _UID " + device.uid());
            }
        }
    }
}
