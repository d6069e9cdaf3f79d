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
    void onlyAnExitOfTheGuestsOwnDoingSaysThisKvmCannotRunIt() {
        assertThat(GuestCodeProbe.outcomeOf(new VcpuExit.IoOut(0x10, 1, 0)).answer())
                .isEqualTo(GuestCodeProbe.Answer.RUNS);
        for (VcpuExit guestsDoing : new VcpuExit[] {
            new VcpuExit.InternalError(1),
            VcpuExit.SHUTDOWN,
            VcpuExit.HALT,
            new VcpuExit.IoOut(0x80, 1, 0),
            new VcpuExit.MmioRead(0x1000_0000L, 4)
        }) {
            assertThat(GuestCodeProbe.outcomeOf(guestsDoing))
                    .as(guestsDoing.toString())
                    .extracting(GuestCodeProbe.Outcome::answer)
                    .isEqualTo(GuestCodeProbe.Answer.DOES_NOT_RUN);
        }
        // KVM refusing the vCPU's state would be this probe's fault, and an exit it does not know says nothing:
        // taken for "cannot run Linux", either would send the linux tier to the nested guest on a host that runs it.
        for (VcpuExit notTheGuests :
                new VcpuExit[] {new VcpuExit.FailEntry(0x21, 0), new VcpuExit.Unknown(99), new VcpuExit.SystemEvent(1)
                }) {
            GuestCodeProbe.Outcome outcome = GuestCodeProbe.outcomeOf(notTheGuests);
            assertThat(outcome.answer()).as(notTheGuests.toString()).isEqualTo(GuestCodeProbe.Answer.PROBE_FAILED);
            assertThat(outcome.detail()).contains(notTheGuests.toString());
        }
    }

    @Test
    @Tag(Tiers.KVM)
    void thisHostsKvmEitherRunsTheBreakpointOrStopsTheGuestNeverFailsToAnswer() {
        Tiers.assumeKvm();

        GuestCodeProbe.Outcome outcome = GuestCodeProbe.probe(Kvm.DEVICE, Duration.ofSeconds(30));

        assertThat(outcome.answer()).as(outcome.detail()).isNotEqualTo(GuestCodeProbe.Answer.PROBE_FAILED);
    }
}
