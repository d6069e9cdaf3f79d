package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** jvfio's VERSION JSON against RFC 8259, with Gson as the independent reader of what it writes. */
class JsonTest {
    @Test
    void readsEveryKindOfValue() {
        Object value = Json.parse(
                " {\"a\": [1, -0.5e+3, 2E-2, true, false, null, \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"], \"b\": {}, \"c\": []}\n");

        assertThat(value).isInstanceOf(Map.class);
        Map<?, ?> object = (Map<?, ?>) value;
        assertThat(List.copyOf(object.keySet())).isEqualTo(List.of("a", "b", "c"));
        assertThat(object.get("a"))
                .isEqualTo(List.of(
                        new Json.NumberText("1"),
                        new Json.NumberText("-0.5e+3"),
                        new Json.NumberText("2E-2"),
                        true,
                        false,
                        Json.NULL,
                        "x\"\\/\b\f\n\r\té"));
        assertThat(object.get("b")).isEqualTo(Map.of());
        assertThat(object.get("c")).isEqualTo(List.of());
    }

    @Test
    void aRepeatedNameKeepsItsLastValue() {
        assertThat(Json.parse("{\"a\":1,\"a\":2}")).isEqualTo(Map.of("a", new Json.NumberText("2")));
    }

    @Test
    void refusesWhatRfc8259DoesNotAllowSayingWhere() {
        for (String bad : List.of(
                "",
                "{",
                "{\"a\":1,}",
                "[1,]",
                "{'a':1}",
                "{a:1}",
                "{\"a\" 1}",
                "01",
                "1.",
                ".5",
                "1e",
                "-",
                "+1",
                "NaN",
                "tru",
                "nul",
                "\"tab\there\"",
                "\"\\x\"",
                "\"\\u12g4\"",
                "\"\\u12",
                "\"open",
                "{} {}",
                "[1] x",
                "/* comment */ {}")) {
            assertThatThrownBy(() -> Json.parse(bad))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("at character");
        }
    }

    @Test
    void nestingIsBoundedInsteadOfExhaustingTheStack() {
        String deep = "[".repeat(100_000);

        assertThatThrownBy(() -> Json.parse(deep))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nested deeper than 64");
        assertThat(Json.parse("[".repeat(64) + "]".repeat(64))).isInstanceOf(List.class);
    }

    @Test
    void writesCompactJsonThatGsonReadsBackAlike() {
        Map<String, Object> twin = new LinkedHashMap<>();
        twin.put("supported", true);
        twin.put("fd_index", 0);
        Map<String, Object> capabilities = new LinkedHashMap<>();
        capabilities.put("max_msg_fds", 8);
        capabilities.put("pgsizes", 4096L);
        capabilities.put("name \"quoted\"\n\u0001", List.of("a", Json.NULL, false, new Json.NumberText("1.5")));
        capabilities.put("twin_socket", twin);

        String json = Json.write(Map.of("capabilities", capabilities));

        assertThat(json)
                .isEqualTo("{\"capabilities\":{\"max_msg_fds\":8,\"pgsizes\":4096,"
                        + "\"name \\\"quoted\\\"\\n\\u0001\":[\"a\",null,false,1.5],"
                        + "\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}");
        assertThat(JsonParser.parseString(json).toString()).isEqualTo(json);
        assertThat(Json.write(Json.parse(json))).isEqualTo(json);
    }
}
