package io.jvfio.machine.irqchip;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The I/O APIC of the 82093AA datasheet as KVM's in-kernel one presents it (version 0x11, 24 pins, no EOI
 * register): IOREGSEL at +0x00 and IOWIN at +0x10 over the ID, version, arbitration and redirection-table
 * registers. A pin latches its input line; a level pin that is delivered sets its remote IRR, which only
 * the EOI broadcast of the LAPIC clears, and a pin still asserted then is delivered again. An edge pin is
 * delivered on each rising edge while unmasked; an edge that arrives masked is lost, as the datasheet says.
 *
 * <p>The input is whether the line is asserted, whatever the polarity bit (stored and read back) says, as
 * in KVM's IOAPIC: a device's raise is an assertion on either irqchip, so a guest sees the same
 * interrupts from both, and jvfio's ACPI tables declare every interrupt active-high.
 *
 * <p>Not thread-safe: {@link UserIrqchip} calls it under its lock.
 */
final class IoApic {
    static final long BASE = 0xFEC0_0000L;
    static final long SIZE = 0x1000;
    static final int PINS = 24;
    /** Version 0x11 and the highest redirection entry, 23, in bits 16-23. */
    static final int VERSION = 0x11 | (PINS - 1) << 16;

    static final int REGSEL = 0x00;
    static final int WINDOW = 0x10;
    static final int REG_ID = 0x00;
    static final int REG_VERSION = 0x01;
    static final int REG_ARBITRATION = 0x02;
    static final int REG_REDIRECTION = 0x10;

    static final long VECTOR = 0xFF;
    static final int DELIVERY_MODE_SHIFT = 8;
    static final long LOGICAL_DESTINATION = 1L << 11;
    static final long DELIVERY_PENDING = 1L << 12;
    static final long ACTIVE_LOW = 1L << 13;
    static final long REMOTE_IRR = 1L << 14;
    static final long LEVEL_TRIGGERED = 1L << 15;
    static final long MASKED = 1L << 16;
    static final int DESTINATION_SHIFT = 56;
    private static final long READ_ONLY = DELIVERY_PENDING | REMOTE_IRR;
    /** Bits 17-55 are reserved: they read as zero. */
    private static final long WRITABLE = VECTOR
            | 7L << DELIVERY_MODE_SHIFT
            | LOGICAL_DESTINATION
            | ACTIVE_LOW
            | LEVEL_TRIGGERED
            | MASKED
            | 0xFFL << DESTINATION_SHIFT;

    /** Where a redirection entry's message goes: true if some LAPIC accepted it. */
    @FunctionalInterface
    interface MessageSink {
        boolean deliver(int vector, int deliveryMode, boolean logicalDestination, int destination, boolean level);
    }

    private final long[] redirection = new long[PINS];
    private final boolean[] input = new boolean[PINS];
    /** Pins whose input is lowered by the EOI that ends their interrupt, as KVM's irqfd resampler does. */
    private final int[] resamplers = new int[PINS];

    private final long[] deliveries = new long[PINS];
    private final long[] eois = new long[PINS];
    private final MessageSink sink;
    private int registerSelect;
    private int id;

    IoApic(MessageSink sink) {
        this.sink = sink;
        reset();
    }

    /** Power-on state: every entry masked and zero otherwise, every input low. */
    void reset() {
        Arrays.fill(redirection, MASKED);
        Arrays.fill(input, false);
        registerSelect = 0;
        id = 0;
    }

    /** A read of {@code size} bytes at {@code offset} in the IOAPIC's page. */
    long read(long offset, int size) {
        if (size != 4) {
            return 0;
        }
        if (offset == REGSEL) {
            return registerSelect;
        }
        if (offset == WINDOW) {
            return readRegister(registerSelect) & 0xFFFF_FFFFL;
        }
        return 0;
    }

    /** A write of {@code size} bytes at {@code offset} in the IOAPIC's page. */
    void write(long offset, int size, long value) {
        if (size != 4) {
            return;
        }
        if (offset == REGSEL) {
            registerSelect = (int) value & 0xFF;
        } else if (offset == WINDOW) {
            writeRegister(registerSelect, (int) value);
        }
    }

    private int readRegister(int register) {
        return switch (register) {
            case REG_ID, REG_ARBITRATION -> id << 24;
            case REG_VERSION -> VERSION;
            default -> {
                int pin = (register - REG_REDIRECTION) / 2;
                if (register < REG_REDIRECTION || pin >= PINS) {
                    yield 0;
                }
                long entry = redirection[pin];
                yield (int) ((register & 1) == 0 ? entry : entry >>> 32);
            }
        };
    }

    private void writeRegister(int register, int value) {
        if (register == REG_ID) {
            id = value >>> 24 & 0xF;
            return;
        }
        int pin = (register - REG_REDIRECTION) / 2;
        if (register < REG_REDIRECTION || pin >= PINS) {
            return;
        }
        long old = redirection[pin];
        long written = (register & 1) == 0
                ? (old & 0xFFFF_FFFF_0000_0000L) | Integer.toUnsignedLong(value)
                : (old & 0xFFFF_FFFFL) | (long) value << 32;
        long entry = (written & WRITABLE) | (old & READ_ONLY);
        if ((entry & LEVEL_TRIGGERED) == 0) {
            entry &= ~REMOTE_IRR;
        }
        redirection[pin] = entry;
        if ((entry & (MASKED | LEVEL_TRIGGERED | REMOTE_IRR)) == LEVEL_TRIGGERED && input[pin]) {
            service(pin);
        }
    }

    /** The device side: pin {@code pin}'s input line is now {@code asserted} or not. */
    void setInput(int pin, boolean asserted) {
        boolean wasAsserted = input[pin];
        input[pin] = asserted;
        if (!asserted) {
            return;
        }
        if ((redirection[pin] & LEVEL_TRIGGERED) != 0 || !wasAsserted) {
            service(pin);
        }
    }

    private void service(int pin) {
        long entry = redirection[pin];
        if ((entry & MASKED) != 0) {
            return;
        }
        boolean level = (entry & LEVEL_TRIGGERED) != 0;
        if (level && (entry & REMOTE_IRR) != 0) {
            return;
        }
        boolean accepted = sink.deliver(
                (int) (entry & VECTOR),
                (int) (entry >>> DELIVERY_MODE_SHIFT) & 7,
                (entry & LOGICAL_DESTINATION) != 0,
                (int) (entry >>> DESTINATION_SHIFT) & 0xFF,
                level);
        if (accepted) {
            deliveries[pin]++;
            if (level) {
                redirection[pin] |= REMOTE_IRR;
            }
        }
    }

    /**
     * The LAPIC's EOI broadcast for {@code vector}: each level pin on that vector with its remote IRR set
     * has it cleared, its input lowered if it has a resampler, is reported to {@code ended}, and is
     * delivered again if it is still asserted.
     */
    void endOfInterrupt(int vector, IntConsumer ended) {
        for (int pin = 0; pin < PINS; pin++) {
            long entry = redirection[pin];
            if ((entry & VECTOR) != vector
                    || (entry & (LEVEL_TRIGGERED | REMOTE_IRR)) != (LEVEL_TRIGGERED | REMOTE_IRR)) {
                continue;
            }
            redirection[pin] = entry & ~REMOTE_IRR;
            eois[pin]++;
            if (resamplers[pin] > 0) {
                input[pin] = false;
            }
            ended.accept(pin);
            if (input[pin]) {
                service(pin);
            }
        }
    }

    /** Adds ({@code +1}) or removes ({@code -1}) a resampler of {@code pin}. */
    void countResampler(int pin, int delta) {
        resamplers[pin] += delta;
    }

    boolean remoteIrr(int pin) {
        return (redirection[pin] & REMOTE_IRR) != 0;
    }

    long redirectionEntry(int pin) {
        return redirection[pin];
    }

    long deliveries(int pin) {
        return deliveries[pin];
    }

    long endsOfInterrupt(int pin) {
        return eois[pin];
    }
}
