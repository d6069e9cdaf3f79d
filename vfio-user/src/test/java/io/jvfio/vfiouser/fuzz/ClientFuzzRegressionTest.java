package io.jvfio.vfiouser.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.vfiouser.fuzz.MutatingProxy.Fault;
import io.jvfio.vfiouser.fuzz.MutatingProxy.Plan;
import org.junit.jupiter.api.Test;

/**
 * The client fuzzer's findings, replayed as the cases that showed them (a twin-socket case, the fault on
 * the server's message at that place of a whole session); the directed tests of the same are in
 * ClientConformanceTest:
 * <ul>
 * <li>a DEVICE_GET_REGION_IO_FDS reply whose eventfd the server replaced with a socket, a memfd or a file
 * was handed on as an ioeventfd ({@code regionIoFdsWhoseFdIsNoEventfdGetOneLineNamingTheEntry});</li>
 * <li>a twin socket closed in the middle of the server's DMA_READ ended the client's reader there without
 * making the device gone ({@code twinSocketClosedInTheMiddleOfAMessageMakesTheDeviceGone}).</li>
 * </ul>
 */
class ClientFuzzRegressionTest {
    @Test
    void regionIoFdsWithAnFdOfAnotherKindFailsTheCallInsteadOfHandingItOn() throws Exception {
        ClientFuzzer.CaseResult result = ClientFuzzer.replay(2, new Plan(1, 4, Fault.WRONG_KIND_FDS, 0));
        assertThat(result.applied()).containsExactly("4 DEVICE_GET_REGION_IO_FDS WRONG_KIND_FDS");
        assertThat(result.defects()).isEmpty();
    }

    @Test
    void twinSocketClosedInTheMiddleOfADmaReadMakesTheDeviceGone() throws Exception {
        ClientFuzzer.CaseResult result = ClientFuzzer.replay(2, new Plan(33, 33, Fault.CLOSE_MID, 0));
        assertThat(result.applied()).containsExactly("33 DMA_READ CLOSE_MID");
        assertThat(result.defects()).isEmpty();
    }
}
