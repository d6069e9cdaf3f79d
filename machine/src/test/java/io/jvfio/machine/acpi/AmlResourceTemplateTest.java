package io.jvfio.machine.acpi;

import static io.jvfio.machine.acpi.AmlTermTest.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.acpi.ResourceDescriptor.ExtendedInterrupt;
import io.jvfio.machine.acpi.ResourceDescriptor.ExtendedInterrupt.Polarity;
import io.jvfio.machine.acpi.ResourceDescriptor.ExtendedInterrupt.Sharing;
import io.jvfio.machine.acpi.ResourceDescriptor.ExtendedInterrupt.Trigger;
import io.jvfio.machine.acpi.ResourceDescriptor.ExtendedInterrupt.Usage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Resource descriptors of ACPI 6.5 section 6.4, bytes worked out by hand. */
class AmlResourceTemplateTest {
    @Test
    void fixedIoRangeIsDecode16WithMinimumEqualToMaximum() {
        assertThat(ResourceDescriptor.Io.fixed(0x3F8, 8).encode()).containsExactly(hex("4701F803F8030008"));
    }

    @Test
    void memory32FixedCarriesTheWritableBitBaseAndLength() {
        assertThat(new ResourceDescriptor.Memory32Fixed(true, 0xD000_0000L, 0x1000).encode())
                .containsExactly(hex("860900" + "01" + "000000D0" + "00100000"));
        assertThat(new ResourceDescriptor.Memory32Fixed(false, 0, 1).encode()[3])
                .isZero();
    }

    @Test
    void interruptFlagsAreConsumerEdgeActiveLowSharedFromBitZero() {
        ExtendedInterrupt all =
                new ExtendedInterrupt(Usage.CONSUMER, Trigger.EDGE, Polarity.ACTIVE_LOW, Sharing.SHARED, List.of(4, 5));
        assertThat(all.encode()).containsExactly(hex("890A00" + "0F" + "02" + "04000000" + "05000000"));
        ExtendedInterrupt none = new ExtendedInterrupt(
                Usage.PRODUCER, Trigger.LEVEL, Polarity.ACTIVE_HIGH, Sharing.EXCLUSIVE, List.of(16));
        assertThat(none.encode()).containsExactly(hex("890600" + "00" + "01" + "10000000"));
    }

    @Test
    void serialPortTemplateEndsWithATagWhoseChecksumZeroesTheSum() {
        ResourceTemplate com1 = new ResourceTemplate(
                ResourceDescriptor.Io.fixed(0x3F8, 8),
                new ExtendedInterrupt(
                        Usage.CONSUMER, Trigger.LEVEL, Polarity.ACTIVE_HIGH, Sharing.EXCLUSIVE, List.of(4)));
        // IO 0x3F8/8 sums to 0x246, the interrupt to 0x95, the end tag 0x79: 0x354, so the checksum is 0xAC.
        assertThat(com1.encode())
                .containsExactly(hex("1116" + "0A13" + "4701F803F8030008" + "890600010104000000" + "79AC"));
    }

    @Test
    void emptyTemplateIsJustTheEndTag() {
        assertThat(new ResourceTemplate().resourceData()).containsExactly(0x79, 0x87);
    }

    @Test
    void interruptWithoutGsisOrWithANegativeOneIsRefused() {
        assertThatThrownBy(() -> new ExtendedInterrupt(
                        Usage.CONSUMER, Trigger.LEVEL, Polarity.ACTIVE_HIGH, Sharing.EXCLUSIVE, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("an Interrupt descriptor lists 1..255 GSIs, got 0");
        assertThatThrownBy(() -> new ExtendedInterrupt(
                        Usage.CONSUMER, Trigger.LEVEL, Polarity.ACTIVE_HIGH, Sharing.EXCLUSIVE, List.of(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("GSI -1 is negative");
    }

    @Test
    void memoryReachingPastFourGibibytesIsRefused() {
        assertThatThrownBy(() -> new ResourceDescriptor.Memory32Fixed(true, 0xFFFF_F000L, 0x2000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Memory32Fixed 0xfffff000 (0x2000 bytes) does not lie below 4 GiB");
    }

    @Test
    void ioRangeOutside16BitsIsRefused() {
        assertThatThrownBy(() -> ResourceDescriptor.Io.fixed(0x10000, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("IO port range 0x10000-0x10000 must be ascending and below 0x10000");
        assertThatThrownBy(() -> ResourceDescriptor.Io.fixed(0x3F8, 256))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("IO alignment and length are bytes (0..255), got 0 and 256");
    }
}
