package io.jvfio.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.Tiers;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The interrupt-window probe's verdict held against a guest of the tests' own ({@link RealModeGuest}, not
 * the probe's code or set-up) that keeps interrupts off for a while before its {@code sti}.
 */
class IrqWindowProbeTest {
    private static final Duration GENEROUS = Duration.ofSeconds(5);
    private static final int ITERATIONS_WITH_INTERRUPTS_OFF = 1000;
    private static final int BEFORE_STI = 0x600;
    private static final int AFTER_STI = 0x602;
    /**
     * mov cx, 1000; off: inc word [0x600]; dec cx; jnz off; sti; on: inc word [0x602]; jmp on. The vCPU
     * starts with interrupts off (RFLAGS 0x2).
     */
    private static final byte[] OFF_THEN_STI_THEN_COUNT = {
        (byte) 0xB9,
        (byte) 0xE8,
        0x03,
        (byte) 0xFF,
        0x06,
        0x00,
        0x06,
        0x49,
        0x75,
        (byte) 0xF9,
        (byte) 0xFB,
        (byte) 0xFF,
        0x06,
        0x02,
        0x06,
        (byte) 0xEB,
        (byte) 0xFA
    };

    @Test
    @Tag(Tiers.KVM)
    void theWindowExitWaitsForTheGuestsStiAndComesAsPromptlyAsTheProbeSays() throws Exception {
        Tiers.assumeKvm();
        IrqWindowProbe.Timing timing = IrqWindowProbe.run();
        assertThat(timing.probeFailed()).as(timing.toString()).isFalse();

        try (RealModeGuest guest = RealModeGuest.withoutIrqchip(OFF_THEN_STI_THEN_COUNT)) {
            guest.vcpu().requestInterruptWindow(true);
            Optional<VcpuExit> exit = IrqchipProbe.runUntil(
                    guest.vcpu(), VcpuExit.IrqWindowOpen.class::isInstance, "an interrupt-window exit", GENEROUS);

            assertThat(exit).as("an interrupt-window exit within " + GENEROUS).isPresent();
            assertThat(guest.word(BEFORE_STI))
                    .as("no window while the guest kept interrupts off")
                    .isEqualTo(ITERATIONS_WITH_INTERRUPTS_OFF);
            if (timing.prompt()) {
                assertThat(guest.word(AFTER_STI))
                        .as("a prompt KVM (" + timing + ") ends the run right after the sti's shadow")
                        .isLessThanOrEqualTo(IrqWindowProbe.PROMPT_INCREMENTS);
            }
        }
    }

    @Test
    @Tag(Tiers.KVM)
    void theAnswerIsKeptForTheProcess() {
        Tiers.assumeKvm();
        assertThat(IrqWindowProbe.host()).isSameAs(IrqWindowProbe.host());
    }
}
