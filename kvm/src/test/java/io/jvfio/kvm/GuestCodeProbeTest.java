package io.jvfio.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.Tiers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class GuestCodeProbeTest {
    @Test
    void aKvmThatCannotBeOpenedIsAFailedProbeNotAKvmThatCannotRunTheGuest() {
        // ./test and the launcher send the linux tier and the demo to the nested guest on "does not run";
        // a /dev/kvm this user may not open must stop them instead.
        GuestCodeProbe.Outcome outcome = GuestCodeProbe.probe(Path.of("/nonexistent/kvm"), Duration.ofSeconds(1));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int status = GuestCodeProbe.report(
                outcome,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        assertThat(outcome.answer()).isEqualTo(GuestCodeProbe.Answer.PROBE_FAILED);
        assertThat(status).isEqualTo(2);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("the probe of /dev/kvm failed: KVM is not available: /nonexistent/kvm");
    }

    @Test
    @Tag(Tiers.KVM)
    void thisHostsKvmEitherRunsTheBreakpointOrStopsTheGuestNeverFailsToAnswer() {
        Tiers.assumeKvm();

        GuestCodeProbe.Outcome outcome = GuestCodeProbe.probe(Kvm.DEVICE, Duration.ofSeconds(30));

        assertThat(outcome.answer()).as(outcome.detail()).isNotEqualTo(GuestCodeProbe.Answer.PROBE_FAILED);
    }
}
