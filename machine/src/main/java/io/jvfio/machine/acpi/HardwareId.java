package io.jvfio.machine.acpi;

/**
 * A device's {@code _HID}: a compressed EISA ID (an Integer, like the PC devices' {@code PNP0501}) or a
 * string ID, either a PNP ID (three letters, four hex digits: {@code PRP0001}) or an ACPI ID (four letters
 * or digits, four hex digits: {@code ACPI0007}). Linux reads both forms as the same string.
 */
public sealed interface HardwareId {
    /** The ID as text, whichever form it is encoded in. */
    String id();

    /** What {@code Name(_HID, ...)} binds. */
    Aml.DataObject toAml();

    static HardwareId eisaId(String id) {
        return new Eisa(id);
    }

    static HardwareId string(String id) {
        return new Text(id);
    }

    /** {@code EisaId("PNP0501")}. */
    record Eisa(String id) implements HardwareId {
        public Eisa {
            new Aml.EisaId(id); // refuses what does not compress
        }

        @Override
        public Aml.DataObject toAml() {
            return new Aml.EisaId(id);
        }
    }

    /** {@code "PRP0001"}. */
    record Text(String id) implements HardwareId {
        public Text {
            if (!id.matches("[A-Z]{3}[0-9A-F]{4}|[A-Z0-9]{4}[0-9A-F]{4}")) {
                throw new IllegalArgumentException(
                        "_HID \"" + id + "\" is neither a PNP ID (AAA####) nor an ACPI ID (NNNN####), # a hex digit");
            }
        }

        @Override
        public Aml.DataObject toAml() {
            return new Aml.StringConst(id);
        }
    }
}
