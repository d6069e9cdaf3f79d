package io.jvfio.machine.acpi;

import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * ASL's {@code ResourceTemplate() { ... }}: a Buffer holding the descriptors and the End Tag (small item
 * 0x0F: 0x79, then a checksum byte that makes the bytes of the whole template sum to zero).
 */
public record ResourceTemplate(List<ResourceDescriptor> descriptors) implements Aml.DataObject {
    private static final int END_TAG = 0x79;

    public ResourceTemplate {
        descriptors = List.copyOf(descriptors);
    }

    public ResourceTemplate(ResourceDescriptor... descriptors) {
        this(List.of(descriptors));
    }

    /** The template's bytes: what the Buffer holds. */
    public byte[] resourceData() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        descriptors.forEach(descriptor -> out.writeBytes(descriptor.encode()));
        out.write(END_TAG);
        byte[] withoutChecksum = out.toByteArray();
        out.write(AcpiChecksum.of(withoutChecksum, 0, withoutChecksum.length));
        return out.toByteArray();
    }

    @Override
    public byte[] encode() {
        return new Aml.Buffer(resourceData()).encode();
    }
}
