package io.jvfio.machine.acpi;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How an assigned platform device, known by its device-tree {@code compatible} strings, is named in the
 * DSDT so that a stock kernel's driver binds it: an ACPI or PNP ID the driver matches where one exists
 * ({@code ns16550a} is 8250_pnp's {@code PNP0501}, {@code virtio,mmio} is virtio_mmio's {@code LNRO0005}),
 * else {@code PRP0001} with the first compatible in a {@code _DSD}, which Linux matches against drivers'
 * OF tables.
 */
public final class CompatibleIds {
    private static final Map<String, HardwareId> KNOWN = Map.of(
            "ns16550a", HardwareId.eisaId("PNP0501"),
            "virtio,mmio", HardwareId.string("LNRO0005"));

    private CompatibleIds() {}

    /** The ACPI ID Linux's driver for {@code compatible} matches, if jvfio knows one. */
    public static Optional<HardwareId> knownId(String compatible) {
        return Optional.ofNullable(KNOWN.get(compatible));
    }

    /**
     * A device named {@code name} described by {@code compatibles} (most specific first, as in a device
     * tree): {@code hardwareId} if given (the user's {@code x-acpi-hid}), else the known ID of the first
     * compatible that has one, else PRP0001. A PRP0001 device gets {@code compatible} in its {@code _DSD}:
     * the first of {@code compatibles}. The caller adds the resources and {@code _UID}.
     */
    public static AcpiDevice.Builder describe(String name, List<String> compatibles, Optional<HardwareId> hardwareId) {
        if (compatibles.isEmpty()) {
            throw new IllegalArgumentException(name + ": a device needs a compatible string to be described in ACPI");
        }
        HardwareId id = hardwareId
                .or(() -> compatibles.stream()
                        .map(CompatibleIds::knownId)
                        .flatMap(Optional::stream)
                        .findFirst())
                .orElse(HardwareId.string(AcpiDevice.PRP0001));
        AcpiDevice.Builder builder = AcpiDevice.builder(name, id);
        if (id.id().equals(AcpiDevice.PRP0001)) {
            builder.properties(DeviceProperties.compatible(compatibles.getFirst()));
        }
        return builder;
    }
}
