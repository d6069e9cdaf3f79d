package io.jvfio.machine.acpi;

import java.util.List;

/**
 * The resource data a {@link ResourceTemplate} lists (ACPI 6.5 section 6.4): the descriptors jvfio's
 * devices need. Each encodes to its bytes inside the template's buffer.
 */
public sealed interface ResourceDescriptor {
    byte[] encode();

    /** {@code IO(Decode16, minimum, maximum, alignment, length)}: small item 0x08, 16-bit decode. */
    record Io(int minimum, int maximum, int alignment, int length) implements ResourceDescriptor {
        private static final int TAG = 0x47;
        private static final int DECODE_16 = 0x01;

        public Io {
            if (minimum < 0 || minimum > 0xFFFF || maximum < minimum || maximum > 0xFFFF) {
                throw new IllegalArgumentException("IO port range 0x" + Integer.toHexString(minimum) + "-0x"
                        + Integer.toHexString(maximum) + " must be ascending and below 0x10000");
            }
            if (alignment < 0 || alignment > 0xFF || length < 0 || length > 0xFF) {
                throw new IllegalArgumentException(
                        "IO alignment and length are bytes (0..255), got " + alignment + " and " + length);
            }
        }

        /** The fixed range {@code port..port+length-1}; alignment 0, as QEMU writes COM1. */
        public static Io fixed(int port, int length) {
            return new Io(port, port, 0, length);
        }

        @Override
        public byte[] encode() {
            return new byte[] {
                TAG,
                DECODE_16,
                (byte) minimum,
                (byte) (minimum >>> 8),
                (byte) maximum,
                (byte) (maximum >>> 8),
                (byte) alignment,
                (byte) length
            };
        }
    }

    /** {@code Memory32Fixed(ReadWrite|ReadOnly, base, length)}: large item 0x06, below 4 GiB. */
    record Memory32Fixed(boolean writable, long base, long length) implements ResourceDescriptor {
        private static final int TAG = 0x86;
        private static final int BODY_LENGTH = 9;
        private static final long LIMIT = 1L << 32;

        public Memory32Fixed {
            if (base < 0 || length < 0 || base >= LIMIT || length >= LIMIT || base + length > LIMIT) {
                throw new IllegalArgumentException("Memory32Fixed 0x" + Long.toHexString(base) + " (0x"
                        + Long.toHexString(length) + " bytes) does not lie below 4 GiB");
            }
        }

        @Override
        public byte[] encode() {
            byte[] out = new byte[3 + BODY_LENGTH];
            out[0] = (byte) TAG;
            out[1] = BODY_LENGTH;
            out[3] = (byte) (writable ? 1 : 0);
            Aml.putLittleEndian(out, 4, base, 4);
            Aml.putLittleEndian(out, 8, length, 4);
            return out;
        }
    }

    /**
     * {@code Interrupt(usage, trigger, polarity, sharing) { gsis }}: the Extended Interrupt Descriptor,
     * large item 0x09, without a resource source. Flags: bit 0 consumer, bit 1 edge, bit 2 active low,
     * bit 3 shared.
     */
    record ExtendedInterrupt(Usage usage, Trigger trigger, Polarity polarity, Sharing sharing, List<Integer> gsis)
            implements ResourceDescriptor {
        private static final int TAG = 0x89;
        private static final int MAX_GSIS = 255;

        public enum Usage {
            PRODUCER,
            CONSUMER
        }

        public enum Trigger {
            LEVEL,
            EDGE
        }

        public enum Polarity {
            ACTIVE_HIGH,
            ACTIVE_LOW
        }

        public enum Sharing {
            EXCLUSIVE,
            SHARED
        }

        public ExtendedInterrupt {
            gsis = List.copyOf(gsis);
            if (gsis.isEmpty() || gsis.size() > MAX_GSIS) {
                throw new IllegalArgumentException(
                        "an Interrupt descriptor lists 1.." + MAX_GSIS + " GSIs, got " + gsis.size());
            }
            for (int gsi : gsis) {
                if (gsi < 0) {
                    throw new IllegalArgumentException("GSI " + gsi + " is negative");
                }
            }
        }

        @Override
        public byte[] encode() {
            int bodyLength = 2 + 4 * gsis.size();
            byte[] out = new byte[3 + bodyLength];
            out[0] = (byte) TAG;
            out[1] = (byte) bodyLength;
            out[2] = (byte) (bodyLength >>> 8);
            out[3] = (byte) ((usage == Usage.CONSUMER ? 1 : 0)
                    | (trigger == Trigger.EDGE ? 2 : 0)
                    | (polarity == Polarity.ACTIVE_LOW ? 4 : 0)
                    | (sharing == Sharing.SHARED ? 8 : 0));
            out[4] = (byte) gsis.size();
            for (int i = 0; i < gsis.size(); i++) {
                Aml.putLittleEndian(out, 5 + 4 * i, gsis.get(i), 4);
            }
            return out;
        }
    }
}
