package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupTest {
    private static final List<String> NAMES = List.of("java -version", "version", "info");

    @Test
    void eachCommandGoesFirstOnceInAsManyRoundsAsThereAreCommands() {
        Map<String, Integer> first = new HashMap<>();
        for (int round = 0; round < NAMES.size(); round++) {
            List<String> order = Startup.order(NAMES, round);
            assertThat(order).containsExactlyInAnyOrderElementsOf(NAMES);
            first.merge(order.getFirst(), 1, Integer::sum);
        }
        assertThat(first)
                .containsOnlyKeys(NAMES)
                .allSatisfy((name, count) -> assertThat(count).isEqualTo(1));
    }

    @Test
    void warmUpRoundsBelowZeroRotateToo() {
        assertThat(Startup.order(NAMES, -1)).containsExactly("info", "java -version", "version");
    }

    @Test
    void theResultIsTheLargestRatioOfMediansOverTheFloors() {
        Map<String, Rounds> figures = new LinkedHashMap<>();
        figures.put("java -version", Rounds.of(40, 50, 60, 1000));
        figures.put("version", Rounds.of(100, 110, 120));
        figures.put("info", Rounds.of(200, 220, 10));
        assertThat(Startup.resultLine(figures))
                .isEqualTo("startup: ratio=3.64 (version 2.00, info 3.64; java -version 55 ms)");
    }
}
