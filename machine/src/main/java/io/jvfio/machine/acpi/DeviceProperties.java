package io.jvfio.machine.acpi;

import java.util.List;
import java.util.UUID;

/**
 * A device's {@code _DSD} (ACPI 6.5 section 6.2.5) with the Device Properties UUID: key-value pairs,
 * read by Linux's {@code device_property_*} and, under the {@code _HID} PRP0001, matched against drivers'
 * OF tables through the {@code compatible} property.
 */
public record DeviceProperties(List<Property> properties) {
    /** "Device Properties UUID For _DSD" (UEFI Forum, 2016). */
    public static final UUID DEVICE_PROPERTIES_UUID = UUID.fromString("daffd814-6eba-4d8c-8a91-bc9bbf4aa301");

    /**
     * One property. Its value is an Integer, a String, a reference or a Package of these: buffers belong
     * to a different UUID (the buffer-properties one), so they are refused here.
     */
    public record Property(String key, Aml.Operand value) {
        public Property {
            new Aml.StringConst(key); // refuses what an AML string cannot hold
            if (key.isEmpty()) {
                throw new IllegalArgumentException("a _DSD property has an empty key");
            }
            requireNoBuffer(key, value);
        }

        private static void requireNoBuffer(String key, Aml.Operand value) {
            switch (value) {
                case Aml.Buffer _, ResourceTemplate _ ->
                    throw new IllegalArgumentException("_DSD property \"" + key
                            + "\" holds a buffer, which the Device Properties UUID does not allow");
                case Aml.Package p -> p.elements().forEach(element -> requireNoBuffer(key, element));
                default -> {}
            }
        }
    }

    public DeviceProperties {
        properties = List.copyOf(properties);
        if (properties.isEmpty()) {
            throw new IllegalArgumentException("a _DSD needs at least one property");
        }
    }

    /** The properties of a PRP0001 device: just {@code compatible}. */
    public static DeviceProperties compatible(String compatible) {
        return new DeviceProperties(List.of(new Property("compatible", new Aml.StringConst(compatible))));
    }

    /**
     * {@code Name(_DSD, Package() { ToUUID(...), Package() { Package() { key, value }, ... } })}.
     */
    public Aml.Name toDsd() {
        List<Aml.Operand> pairs = properties.stream()
                .<Aml.Operand>map(p -> new Aml.Package(new Aml.StringConst(p.key()), p.value()))
                .toList();
        return new Aml.Name("_DSD", new Aml.Package(Aml.Buffer.uuid(DEVICE_PROPERTIES_UUID), new Aml.Package(pairs)));
    }
}
