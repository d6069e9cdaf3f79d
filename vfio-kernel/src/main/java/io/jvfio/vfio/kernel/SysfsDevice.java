package io.jvfio.vfio.kernel;

import io.jvfio.vfio.DeviceTreeIdentity;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A host device as sysfs describes it: its name (what VFIO_GROUP_GET_DEVICE_FD is given), the sysfs
 * directory it was found at and that directory resolved ({@code realPath}, the identity used to refuse
 * attaching it twice), its IOMMU group, the name of its VFIO cdev under {@code vfio-dev/} (Linux 6.6+,
 * e.g. {@code vfio0}) if any, its {@code of_node/compatible} strings (empty when it has none) and the
 * other {@code of_node} properties a guest's node may copy (raw bytes by name).
 */
public record SysfsDevice(
        String name,
        Path path,
        Path realPath,
        int iommuGroup,
        Optional<String> vfioCdev,
        List<String> compatible,
        Map<String, byte[]> ofNodeProperties) {
    public SysfsDevice {
        compatible = List.copyOf(compatible);
        ofNodeProperties = Collections.unmodifiableMap(new TreeMap<>(ofNodeProperties));
    }

    /** The device-tree identity from {@code of_node}, if the device has one: compatible and copied properties. */
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        return compatible.isEmpty()
                ? Optional.empty()
                : Optional.of(new DeviceTreeIdentity(compatible, ofNodeProperties, List.of()));
    }
}
