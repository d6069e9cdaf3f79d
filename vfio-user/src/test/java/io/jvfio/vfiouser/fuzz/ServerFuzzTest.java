package io.jvfio.vfiouser.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A bounded run of the server fuzzer: a real server, raw mutated requests, a probe after each. */
class ServerFuzzTest {
    @Test
    void fiveThousandMutatedRequestsNeverStopTheServerOrLeak() {
        FuzzResult result = ServerFuzzer.run(0x5EED, 5_000);
        System.out.println(result);
        assertThat(result.crashes()).as(result.toString()).isZero();
        assertThat(result.inputs()).isEqualTo(5_000);
        assertThat(result.accepted())
                .as("some inputs were valid enough to get a real reply")
                .isPositive();
    }
}
