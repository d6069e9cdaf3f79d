package io.jvfio.platform.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.platform.irq.IrqController;
import io.jvfio.platform.irq.IrqSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JfrIrqListenerTest {
    @Test
    void injectionAndEoiAreRecordedWithPinAndStates(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("irq.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("io.jvfio.IrqStateChange");
            recording.enable("io.jvfio.IrqInjection");
            recording.enable("io.jvfio.IrqEoi");
            recording.enable("io.jvfio.IrqUnmask");
            recording.enable("io.jvfio.FastPathSwitch");
            recording.start();
            IrqController controller = new IrqController(
                    List.of(new IrqSpec(0, true, level -> {}, Optional.empty())),
                    enabled -> {},
                    (delay, task) -> () -> {},
                    Duration.ofMillis(1100),
                    irq -> {},
                    new JfrIrqListener("dev0"));
            controller.trigger(0);
            controller.endOfInterrupt();
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        assertThat(events)
                .extracting(e -> e.getEventType().getName())
                .containsSubsequence(
                        "io.jvfio.IrqStateChange",
                        "io.jvfio.FastPathSwitch",
                        "io.jvfio.IrqInjection",
                        "io.jvfio.IrqStateChange",
                        "io.jvfio.IrqEoi",
                        "io.jvfio.IrqUnmask");
        RecordedEvent first = events.stream()
                .filter(e -> e.getEventType().getName().equals("io.jvfio.IrqStateChange"))
                .findFirst()
                .orElseThrow();
        assertThat(first.getString("device")).isEqualTo("dev0");
        assertThat(first.getInt("pin")).isZero();
        assertThat(first.getString("from")).isEqualTo("INACTIVE");
        assertThat(first.getString("to")).isEqualTo("ACTIVE");
        assertThat(Files.size(file)).isPositive();
    }
}
