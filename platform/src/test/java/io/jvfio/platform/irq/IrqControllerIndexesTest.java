package io.jvfio.platform.irq;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which IRQ indexes a controller serves: a device's, which may skip one that has no interrupts. */
class IrqControllerIndexesTest {
    @Test
    void anIndexWithNoInterruptsLeavesTheOthersServedByTheirIndex() {
        // VfioPlatformDevice wires only the indexes with interrupts; a vfio-user server answers a gap in its
        // numbering with a count of 0 (VfioUserServer.irqSpec), so index 1 has no spec here.
        boolean[] lines = new boolean[3];
        IrqSpec first = new IrqSpec(0, false, level -> lines[0] = level, Optional.empty());
        IrqSpec third = new IrqSpec(2, true, level -> lines[2] = level, Optional.empty());
        IrqController controller = new IrqController(
                List.of(first, third),
                enabled -> {},
                (delayNanos, task) -> () -> {},
                Duration.ofMillis(1100),
                irq -> {},
                IrqListener.NONE);

        controller.trigger(2);

        assertThat(controller.state(2)).isEqualTo(IrqState.ACTIVE);
        assertThat(lines[2]).isTrue();
        assertThat(controller.state(1)).isEqualTo(IrqState.INACTIVE);
        assertThat(controller.counters(1).triggers()).isZero();
        controller.endOfInterrupt();
        assertThat(lines[2]).isFalse();
    }
}
