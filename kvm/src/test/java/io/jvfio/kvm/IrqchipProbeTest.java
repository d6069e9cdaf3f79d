package io.jvfio.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.Resources;
import io.jvfio.sys.testing.Tiers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The irqchip probe's verdict held against what independent guests observe on this host, its cache, its
 * failures and its clean-up. The guests here are set up by {@link RealModeGuest}, not by the probe, and
 * raise their interrupts with KVM_IRQ_LINE rather than irqfd or MSI.
 */
class IrqchipProbeTest {
    private static final Duration GENEROUS = Duration.ofSeconds(5);
    /** A watchdog's bound for the tests: long enough to be seen, short enough not to slow the suite. */
    private static final Duration BOUND = Duration.ofMillis(500);

    private static final int HANDLER = 0x600;
    private static final int HANDLER_PORT = 0x11;
    private static final int VERSION_PORT = 0x13;

    @Test
    @Tag(Tiers.KVM)
    void guestReadingItsOwnLapicIsrInTheHandlerAgreesWithTheVerdict() throws Exception {
        Tiers.assumeKvm();
        IrqchipSemantics semantics = IrqchipProbe.run();
        assertThat(semantics.verdict()).as(semantics.toString()).isNotEqualTo(IrqchipSemantics.Verdict.PROBE_FAILED);
        int pin = 21;
        int vector = 0x50;
        int isrRegister = 0xFEE00100 + 0x10 * (vector / 32);
        int versionRegister = 0xFEE00030;
        // The handler reads its ISR word (out $HANDLER_PORT), then the LAPIC's version register, which shows
        // that its reads reach the LAPIC (out $VERSION_PORT), and halts for good: cli; hlt; jmp back to the hlt.
        byte[] haltForGood = {(byte) 0xFA, (byte) 0xF4, (byte) 0xEB, (byte) 0xFD};
        byte[] readIsrThenVersion = concat(
                concat(readLapic(isrRegister, HANDLER_PORT), readLapic(versionRegister, VERSION_PORT)), haltForGood);
        try (RealModeGuest guest =
                RealModeGuest.create(concat(RealModeGuest.ENABLE_LAPIC_THEN_READY, RealModeGuest.IDLE))) {
            guest.handler(vector, HANDLER, readIsrThenVersion);
            guest.vm().setIoapicRedirectionEntry(pin, vector);
            assertThat(IrqchipProbe.runUntilPortWrite(guest.vcpu(), RealModeGuest.READY_PORT, GENEROUS))
                    .isPresent();

            guest.vm().setIrqLine(pin, true);
            guest.vm().setIrqLine(pin, false);
            Optional<VcpuExit.IoOut> isr = IrqchipProbe.runUntilPortWrite(guest.vcpu(), HANDLER_PORT, GENEROUS);
            Optional<VcpuExit.IoOut> version = IrqchipProbe.runUntilPortWrite(guest.vcpu(), VERSION_PORT, GENEROUS);

            assertThat(isr).as("the edge interrupt reached the handler").isPresent();
            assertThat(version)
                    .hasValueSatisfying(read -> assertThat(read.value() & 0xFF)
                            .as("LAPIC version the guest read")
                            .isNotZero());
            boolean guestSawItInService = (isr.get().value() >>> (vector % 32) & 1) != 0;
            assertThat(guestSawItInService).as(semantics.toString()).isEqualTo(semantics.keepsInServiceUntilEoi());
        }
    }

    @Test
    @Tag(Tiers.KVM)
    void levelLineLeftHighIsDeliveredAgainBeforeAnyEoiExactlyWhenTheVerdictSaysEoiAtDelivery() throws Exception {
        Tiers.assumeKvm();
        IrqchipSemantics semantics = IrqchipProbe.run();
        assertThat(semantics.verdict()).as(semantics.toString()).isNotEqualTo(IrqchipSemantics.Verdict.PROBE_FAILED);
        int pin = 22;
        int vector = 0x60;
        byte[] countAndReturnWithoutEoi = {(byte) 0xE6, HANDLER_PORT, (byte) 0xCF}; // out %al, $HANDLER_PORT; iret
        try (RealModeGuest guest =
                RealModeGuest.create(concat(RealModeGuest.ENABLE_LAPIC_THEN_READY, RealModeGuest.IDLE))) {
            guest.handler(vector, HANDLER, countAndReturnWithoutEoi);
            guest.vm().setIoapicRedirectionEntry(pin, vector | Vm.IOAPIC_LEVEL_TRIGGERED);
            assertThat(IrqchipProbe.runUntilPortWrite(guest.vcpu(), RealModeGuest.READY_PORT, GENEROUS))
                    .isPresent();

            guest.vm().setIrqLine(pin, true);
            boolean delivered = IrqchipProbe.runUntilPortWrite(guest.vcpu(), HANDLER_PORT, GENEROUS)
                    .isPresent();
            boolean deliveredAgain = IrqchipProbe.runUntilPortWrite(guest.vcpu(), HANDLER_PORT, Duration.ofMillis(100))
                    .isPresent();

            assertThat(delivered).as("the level interrupt reached the handler").isTrue();
            assertThat(deliveredAgain).as(semantics.toString()).isEqualTo(!semantics.keepsInServiceUntilEoi());
        }
    }

    @Test
    @Tag(Tiers.KVM)
    void aPortWriteCompletedBeforeTheGuestIsMovedLeavesTheRipItIsGiven() throws Exception {
        Tiers.assumeKvm();
        try (RealModeGuest guest =
                RealModeGuest.create(concat(RealModeGuest.ENABLE_LAPIC_THEN_READY, RealModeGuest.IDLE))) {
            assertThat(IrqchipProbe.runUntilPortWrite(guest.vcpu(), RealModeGuest.READY_PORT, GENEROUS))
                    .isPresent();

            assertThat(guest.vcpu().completeLastExit()).isTrue();
            assertThat(guest.vcpu().regs().rip())
                    .as("just past the out, no further instruction")
                    .isEqualTo(RealModeGuest.START + RealModeGuest.ENABLE_LAPIC_THEN_READY.length);
            guest.vcpu().setRegs(guest.vcpu().regs().withRip(RealModeGuest.START));

            assertThat(IrqchipProbe.runUntilPortWrite(guest.vcpu(), RealModeGuest.READY_PORT, GENEROUS))
                    .as("the guest ran again from the RIP it was given")
                    .isPresent();
        }
    }

    @Test
    @Tag(Tiers.KVM)
    void hostIsProbedOnceAndCached() {
        Tiers.assumeKvm();

        IrqchipSemantics first = IrqchipProbe.host();
        IrqchipSemantics second = IrqchipProbe.host();

        assertThat(second).isSameAs(first);
        assertThat(first.verdict()).as(first.toString()).isNotEqualTo(IrqchipSemantics.Verdict.PROBE_FAILED);
    }

    @Test
    @Tag(Tiers.KVM)
    void probeClosesEveryFdVcpuMappingAndThreadItOpened() {
        Tiers.assumeKvm();
        IrqchipProbe.run();
        int fds = Resources.openFdsOtherThanJars();
        int vcpuMappings = Resources.mappings("kvm-vcpu");
        Set<Thread> threads = Resources.liveThreads();

        IrqchipSemantics semantics = IrqchipProbe.run();

        assertThat(semantics.verdict()).as(semantics.toString()).isNotEqualTo(IrqchipSemantics.Verdict.PROBE_FAILED);
        assertThat(Resources.openFdsOtherThanJars()).isEqualTo(fds);
        assertThat(Resources.mappings("kvm-vcpu")).isEqualTo(vcpuMappings);
        assertThat(Resources.threadsStartedSince(threads))
                .as("threads the probe left")
                .isEmpty();
    }

    @Test
    void eachVectorsHandlerStartsWithAWriteToAPortOfItsOwn() {
        // Else an in-service bit read at "the MSI's handler" may be read while another vector's handler ran.
        ByteBuffer image = ByteBuffer.wrap(IrqchipProbe.guestImage()).order(ByteOrder.LITTLE_ENDIAN);
        Set<Integer> ports = new HashSet<>();
        for (int vector : new int[] {0x30, 0x40}) {
            int segment = Short.toUnsignedInt(image.getShort(vector * 4 + 2));
            int handler = segment * 16 + Short.toUnsignedInt(image.getShort(vector * 4));
            assertThat(image.get(handler))
                    .as("vector 0x%x: out imm8, %%al first", vector)
                    .isEqualTo((byte) 0xE6);
            ports.add(Byte.toUnsignedInt(image.get(handler + 1)));
        }
        assertThat(ports).hasSize(2);
    }

    @Test
    void missingKvmIsAFailedVerdictThatSaysWhy() {
        int fds = Resources.openFdsOtherThanJars();

        IrqchipSemantics semantics = IrqchipProbe.run(Path.of("/nonexistent/kvm"), Duration.ofMillis(200));

        assertThat(semantics.verdict()).isEqualTo(IrqchipSemantics.Verdict.PROBE_FAILED);
        assertThat(semantics.keepsInServiceUntilEoi()).isFalse();
        assertThat(semantics.evidence())
                .startsWith("KVM is not available: /nonexistent/kvm: No such file or directory");
        assertThat(semantics.toString()).startsWith("in-kernel irqchip probe failed: KVM is not available");
        assertThat(Resources.openFdsOtherThanJars()).isEqualTo(fds);
    }

    @Test
    @Tag(Tiers.KVM)
    void noDeliveryWithinTheBoundIsAFailedVerdictThatSaysWhyAndLeaksNothing() {
        Tiers.assumeKvm();
        IrqchipProbe.run();
        int fds = Resources.openFdsOtherThanJars();

        IrqchipSemantics semantics = IrqchipProbe.run(Kvm.DEVICE, Duration.ZERO);

        assertThat(semantics.verdict()).isEqualTo(IrqchipSemantics.Verdict.PROBE_FAILED);
        assertThat(semantics.evidence()).isEqualTo("the level interrupt did not reach its handler within 0 ms");
        assertThat(Resources.openFdsOtherThanJars()).isEqualTo(fds);
    }

    @Test
    @Tag(Tiers.KVM)
    void watchdogKicksAHaltedVcpuThatNeverGetsItsInterruptOutAtTheBound() throws Exception {
        Tiers.assumeKvm();
        byte[] haltWithInterruptsOff = {(byte) 0xFA, (byte) 0xF4, (byte) 0xEB, (byte) 0xFD}; // cli; hlt; jmp back
        try (RealModeGuest guest = RealModeGuest.create(haltWithInterruptsOff)) {
            long start = System.nanoTime();

            Optional<VcpuExit.IoOut> write = IrqchipProbe.runUntilPortWrite(guest.vcpu(), HANDLER_PORT, BOUND);

            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            assertThat(write).isEmpty();
            assertThat(waited).isBetween(BOUND, BOUND.plus(GENEROUS));
        }
    }

    /** mov eax, [dword address]; out $port, eax (16-bit code with operand- and address-size prefixes). */
    private static byte[] readLapic(int address, int port) {
        return new byte[] {
            0x66,
            0x67,
            (byte) 0xA1,
            (byte) address,
            (byte) (address >>> 8),
            (byte) (address >>> 16),
            (byte) (address >>> 24),
            0x66,
            (byte) 0xE7,
            (byte) port
        };
    }

    private static byte[] concat(byte[] first, byte[] second) {
        byte[] all = new byte[first.length + second.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }
}
