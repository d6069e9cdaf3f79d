package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class VirtioBlkReadTest {
    /** Two passes' worth of sectors: 2 x 64 MiB / 512, plus the partition scan's. */
    private static final String SECTORS = "jvfio-blk-bench: sectors read: 262400\n";

    private static final double MB = (64 << 20) / 1e6;

    @Test
    void eachPassIsTheDiskOverItsKernelLogTimes() throws IOException {
        String console = """
                [    5.000000] jvfio-blk-bench: pass 1 start
                [    5.500000] jvfio-blk-bench: pass 1 end
                [    5.600000] jvfio-blk-bench: pass 2 start
                [    6.600000] jvfio-blk-bench: pass 2 end
                """ + SECTORS;
        double[] figures = VirtioBlkRead.passFigures("jvfio", console, 2);
        assertThat(figures).hasSize(2);
        assertThat(figures[0]).isCloseTo(MB / 0.5, within(1e-6));
        assertThat(figures[1]).isCloseTo(MB / 1.0, within(1e-6));
    }

    @Test
    void aPassWithoutItsEndIsRefused() {
        String console = """
                [    5.000000] jvfio-blk-bench: pass 1 start
                [    5.500000] jvfio-blk-bench: pass 1 end
                [    5.600000] jvfio-blk-bench: pass 2 start
                """ + SECTORS;
        assertThatThrownBy(() -> VirtioBlkRead.passFigures("qemu", console, 2))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("pass 2");
    }

    @Test
    void aPassEndingBeforeItStartsIsRefused() {
        String console = """
                [    5.500000] jvfio-blk-bench: pass 1 start
                [    5.000000] jvfio-blk-bench: pass 1 end
                """ + SECTORS;
        assertThatThrownBy(() -> VirtioBlkRead.passFigures("qemu", console, 1)).hasMessageContaining("pass 1");
    }

    @Test
    void fewerSectorsThanThePassesNeedAreRefused() {
        String console = """
                [    5.000000] jvfio-blk-bench: pass 1 start
                [    5.500000] jvfio-blk-bench: pass 1 end
                jvfio-blk-bench: sectors read: 1000
                """;
        assertThatThrownBy(() -> VirtioBlkRead.passFigures("jvfio", console, 1))
                .hasMessageContaining("sectors read: 1000");
    }

    @Test
    void aFailedDdIsRefusedWhateverTheTimesSay() {
        String console = """
                [    5.000000] jvfio-blk-bench: pass 1 start
                jvfio-blk-bench: dd failed
                [    5.500000] jvfio-blk-bench: pass 1 end
                """ + SECTORS;
        assertThatThrownBy(() -> VirtioBlkRead.passFigures("jvfio", console, 1)).hasMessageContaining("dd failed");
    }

    @Test
    void aConsoleWithoutTheSectorLineIsRefused() {
        assertThatThrownBy(() -> VirtioBlkRead.passFigures("jvfio", "Kernel panic - not syncing\n", 1))
                .isInstanceOf(IOException.class);
    }

    @Test
    void initsNumbersAreAsciiDigitsInALocaleWithOtherDigits() {
        Locale before = Locale.getDefault();
        Locale thaiDigits = Locale.forLanguageTag("th-TH-u-nu-thai");
        try {
            Locale.setDefault(thaiDigits);
            assertThat(String.format("%d", 3))
                    .as("the locale formats with its own digits")
                    .isNotEqualTo("3");
            String init = VirtioBlkRead.init(3);
            assertThat(init).contains("seq 1 3)").contains("count=64 ");
        } finally {
            Locale.setDefault(before);
        }
    }
}
