package io.jvfio.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EntropySourceTest {
    @Test
    void theSeededStreamDoesNotDependOnHowItIsSplit() {
        EntropySource whole = EntropySource.seeded(7);
        EntropySource pieces = EntropySource.seeded(7);
        byte[] all = new byte[37];
        whole.fill(all);

        byte[] first = new byte[3];
        byte[] second = new byte[13];
        byte[] third = new byte[21];
        pieces.fill(first);
        pieces.fill(second);
        pieces.fill(third);

        assertThat(first).isEqualTo(Arrays.copyOfRange(all, 0, 3));
        assertThat(second).isEqualTo(Arrays.copyOfRange(all, 3, 16));
        assertThat(third).isEqualTo(Arrays.copyOfRange(all, 16, 37));
        assertThat(all).isEqualTo(VirtioTestDriver.seededStream(7, 37));
    }

    @Test
    void differentSeedsGiveDifferentStreams() {
        byte[] a = new byte[16];
        byte[] b = new byte[16];
        EntropySource.seeded(1).fill(a);
        EntropySource.seeded(2).fill(b);

        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void hostEntropyIsNotTheSameTwice() {
        byte[] a = new byte[32];
        byte[] b = new byte[32];
        EntropySource.host().fill(a);
        EntropySource.host().fill(b);

        assertThat(a).isNotEqualTo(b).isNotEqualTo(new byte[32]);
    }
}
