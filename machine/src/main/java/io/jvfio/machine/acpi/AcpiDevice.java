package io.jvfio.machine.acpi;

import io.jvfio.machine.acpi.ResourceDescriptor.ExtendedInterrupt;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A device the DSDT describes under {@code \_SB}: its name (a name segment, padded to four characters),
 * {@code _HID}, {@code _UID}, the MMIO and port ranges and GSIs of its {@code _CRS}, and optionally a
 * {@code _DSD} (the {@code compatible} of a PRP0001 device). Every device is cache-coherent ({@code _CCA}
 * 1): a KVM guest's DMA goes through the host's coherent memory.
 */
public record AcpiDevice(
        String name,
        HardwareId hardwareId,
        long uid,
        List<MmioRange> mmio,
        List<IoRange> io,
        List<Interrupt> interrupts,
        Optional<DeviceProperties> properties) {
    /**
     * The MADT describes one IOAPIC with GSI base 0; both irqchips jvfio runs (KVM's and its own) give it
     * 24 pins, so a GSI past 23 would reach no pin.
     */
    public static final int IOAPIC_PINS = 24;
    /** The _HID under which Linux matches a device by its {@code compatible} property. */
    public static final String PRP0001 = "PRP0001";

    /** A guest-physical MMIO range, below 4 GiB (a Memory32Fixed descriptor). */
    public record MmioRange(long base, long size) {
        public MmioRange {
            if (size <= 0) {
                throw new IllegalArgumentException("MMIO range at 0x" + Long.toHexString(base) + " has size " + size);
            }
            new ResourceDescriptor.Memory32Fixed(true, base, size); // refuses a range that is not below 4 GiB
        }
    }

    /** A port range {@code port..port+length-1} (an IO descriptor, 16-bit decode). */
    public record IoRange(int port, int length) {
        public IoRange {
            if (length <= 0 || length > 0xFF || port < 0 || port + length > 0x10000) {
                throw new IllegalArgumentException("port range 0x" + Integer.toHexString(port) + " (" + length
                        + " ports) must hold 1..255 ports below 0x10000");
            }
        }
    }

    /** A GSI (an IOAPIC pin) and how it is triggered; active high, exclusive, consumed by the device. */
    public record Interrupt(int gsi, ExtendedInterrupt.Trigger trigger) {
        public Interrupt {
            if (gsi < 0 || gsi >= IOAPIC_PINS) {
                throw new IllegalArgumentException(
                        "GSI " + gsi + " is not an IOAPIC pin (0-" + (IOAPIC_PINS - 1) + ")");
            }
            Objects.requireNonNull(trigger, "trigger");
        }
    }

    public AcpiDevice {
        name = NamePath.segment(name);
        if (name.startsWith("_")) {
            throw new IllegalArgumentException("ACPI device name \"" + name + "\" starts with _, which ACPI reserves");
        }
        Objects.requireNonNull(hardwareId, "hardwareId");
        if (uid < 0) {
            throw new IllegalArgumentException(name + ": _UID must not be negative, got " + uid);
        }
        mmio = List.copyOf(mmio);
        io = List.copyOf(io);
        interrupts = List.copyOf(interrupts);
        Objects.requireNonNull(properties, "properties");
        boolean hasCompatible = properties.stream()
                .flatMap(p -> p.properties().stream())
                .anyMatch(p -> p.key().equals("compatible"));
        if (hardwareId.id().equals(PRP0001) && !hasCompatible) {
            throw new IllegalArgumentException(name + ": _HID PRP0001 needs a compatible property in its _DSD");
        }
    }

    public static Builder builder(String name, HardwareId hardwareId) {
        return new Builder(name, hardwareId);
    }

    /** {@code Device(NAME) { _HID, _UID, _CCA, _CRS [, _DSD] }}, resources in the order MMIO, ports, GSIs. */
    Aml.Device toAml() {
        List<ResourceDescriptor> resources = new ArrayList<>();
        mmio.forEach(r -> resources.add(new ResourceDescriptor.Memory32Fixed(true, r.base(), r.size())));
        io.forEach(r -> resources.add(ResourceDescriptor.Io.fixed(r.port(), r.length())));
        interrupts.forEach(i -> resources.add(new ExtendedInterrupt(
                ExtendedInterrupt.Usage.CONSUMER,
                i.trigger(),
                ExtendedInterrupt.Polarity.ACTIVE_HIGH,
                ExtendedInterrupt.Sharing.EXCLUSIVE,
                List.of(i.gsi()))));
        List<Aml.TermObject> body = new ArrayList<>(List.of(
                new Aml.Name("_HID", hardwareId.toAml()),
                new Aml.Name("_UID", new Aml.IntegerConst(uid)),
                new Aml.Name("_CCA", new Aml.IntegerConst(1)),
                new Aml.Name("_CRS", new ResourceTemplate(resources))));
        properties.ifPresent(p -> body.add(p.toDsd()));
        return new Aml.Device(NamePath.single(name), body);
    }

    /** Collects a device's resources in order; {@link #build} checks them. */
    public static final class Builder {
        private final String name;
        private final HardwareId hardwareId;
        private long uid;
        private final List<MmioRange> mmio = new ArrayList<>();
        private final List<IoRange> io = new ArrayList<>();
        private final List<Interrupt> interrupts = new ArrayList<>();
        private DeviceProperties properties;

        private Builder(String name, HardwareId hardwareId) {
            this.name = name;
            this.hardwareId = hardwareId;
        }

        public HardwareId hardwareId() {
            return hardwareId;
        }

        /** {@code _UID}, default 0. */
        public Builder uid(long value) {
            this.uid = value;
            return this;
        }

        public Builder mmio(long base, long size) {
            mmio.add(new MmioRange(base, size));
            return this;
        }

        public Builder io(int port, int length) {
            io.add(new IoRange(port, length));
            return this;
        }

        public Builder interrupt(int gsi, ExtendedInterrupt.Trigger trigger) {
            interrupts.add(new Interrupt(gsi, trigger));
            return this;
        }

        /** The {@code _DSD}, e.g. {@link DeviceProperties#compatible}. */
        public Builder properties(DeviceProperties value) {
            this.properties = value;
            return this;
        }

        public AcpiDevice build() {
            return new AcpiDevice(name, hardwareId, uid, mmio, io, interrupts, Optional.ofNullable(properties));
        }
    }
}
