package io.jvfio.platform.config;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** The VFIO platform device types QEMU had; the subtypes fix the device-tree {@code compat} string. */
public enum DeviceType {
    VFIO_PLATFORM("vfio-platform", Optional.empty()),
    VFIO_CALXEDA_XGMAC("vfio-calxeda-xgmac", Optional.of("calxeda,hb-xgmac")),
    VFIO_AMD_XGBE("vfio-amd-xgbe", Optional.of("amd,xgbe-seattle-v1a"));

    private final String typeName;
    private final Optional<String> fixedCompat;

    DeviceType(String typeName, Optional<String> fixedCompat) {
        this.typeName = typeName;
        this.fixedCompat = fixedCompat;
    }

    /** The name used in {@code -device} strings. */
    public String typeName() {
        return typeName;
    }

    /** The compatible string a subtype fixes; empty for the generic type. */
    public Optional<String> fixedCompat() {
        return fixedCompat;
    }

    public static DeviceType fromName(String name) {
        for (DeviceType type : values()) {
            if (type.typeName.equals(name)) {
                return type;
            }
        }
        throw new DeviceSpecException("unknown device type '" + name + "' (known: "
                + Arrays.stream(values()).map(DeviceType::typeName).collect(Collectors.joining(", ")) + ")");
    }
}
