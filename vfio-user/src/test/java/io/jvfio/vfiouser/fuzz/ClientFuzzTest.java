package io.jvfio.vfiouser.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A bounded run of the client fuzzer (a fixed seed, 80 cases, about ten seconds): real clients against a real
 * server behind a proxy that faults its messages. What it found is in ClientConformanceTest:
 * {@code regionIoFdsWhoseFdIsNoEventfdGetOneLineNamingTheEntry} and
 * {@code twinSocketClosedInTheMiddleOfAMessageMakesTheDeviceGone}.
 */
class ClientFuzzTest {
    @Test
    void faultedServerRepliesFailOnlyWithTheClientsExceptionsAndLeakNothing() throws Exception {
        ClientFuzzer.Report report = ClientFuzzer.run(0xC11E, 80);
        System.out.println(report);
        assertThat(report.defects()).as(report.toString()).isEmpty();
        assertThat(report.baselineCommands())
                .as("a whole session's server messages, every kind the client asks for")
                .contains("VERSION", "DEVICE_GET_REGION_IO_FDS", "DEVICE_FEATURE", "DMA_READ", "DMA_WRITE");
        assertThat(report.faults().keySet()).as("every fault was applied").hasSize(MutatingProxy.Fault.ALL.length);
        assertThat(report.outcomes())
                .as("calls succeeded, failed on malformed and error replies, timed out, found the device gone")
                .containsKeys(
                        "ok", "VfioException", "ErrorReplyException", "ReplyTimeoutException", "DeviceGoneException");
    }
}
