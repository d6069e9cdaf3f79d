package io.jvfio.vfiouser;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON of VERSION messages, read strictly after RFC 8259 (no comments, single quotes, unquoted
 * names, trailing commas or NaN) and written compactly. jvfio's own instead of a library's: Gson's
 * writer alone, whose class initialisation compiles regular expressions and formats a table with
 * {@code String.format}, cost every client and server 10-20 ms at its first VERSION.
 *
 * <p>A value is a {@code Map<String, Object>} (an object, in order; a repeated name keeps its last
 * value), a {@code List<Object>}, a {@code String}, a {@link NumberText} (a number as written), a
 * {@code Boolean}, or {@link #NULL}.
 */
final class Json {
    /** JSON's {@code null}. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** How deep objects and arrays may nest: far beyond any VERSION, and no deeper than the stack allows. */
    private static final int MAX_DEPTH = 64;

    /** A number as its text; {@link Capabilities} decides what it must be. */
    record NumberText(String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    private final String text;
    private int at;

    private Json(String text) {
        this.text = text;
    }

    /**
     * The one value {@code text} holds, with nothing but whitespace around it.
     *
     * @throws IllegalArgumentException saying what is wrong and where
     */
    static Object parse(String text) {
        Json reader = new Json(text);
        Object value = reader.value(0);
        reader.skipWhitespace();
        if (reader.at != text.length()) {
            throw reader.error("data after the top-level value");
        }
        return value;
    }

    /** {@code value} (a type {@link #parse} returns, or an int or long) as compact JSON. */
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    // instanceof, not a pattern switch: a switch on types spins a class at its first use, milliseconds of
    // the start-up this class exists to spare.
    private static void write(Object value, StringBuilder out) {
        if (value instanceof Map<?, ?> object) {
            out.append('{');
            String separator = "";
            for (Map.Entry<?, ?> member : object.entrySet()) {
                out.append(separator);
                writeString((String) member.getKey(), out);
                out.append(':');
                write(member.getValue(), out);
                separator = ",";
            }
            out.append('}');
        } else if (value instanceof List<?> array) {
            out.append('[');
            for (int i = 0; i < array.size(); i++) {
                out.append(i == 0 ? "" : ",");
                write(array.get(i), out);
            }
            out.append(']');
        } else if (value instanceof String string) {
            writeString(string, out);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof NumberText number) {
            out.append(number.text());
        } else if (value == NULL) {
            out.append("null");
        } else {
            throw new IllegalArgumentException(
                    "not a JSON value: " + value.getClass().getName());
        }
    }

    private static void writeString(String string, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < string.length(); i++) {
            char c = string.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00")
                                .append(Character.forDigit(c >> 4, 16))
                                .append(Character.forDigit(c & 0xF, 16));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private Object value(int depth) {
        skipWhitespace();
        if (at == text.length()) {
            throw error("a value expected, the text ended");
        }
        char c = text.charAt(at);
        return switch (c) {
            case '{' -> object(depth + 1);
            case '[' -> array(depth + 1);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected '" + c + "'");
            }
        };
    }

    private Map<String, Object> object(int depth) {
        checkDepth(depth);
        at++;
        Map<String, Object> object = new LinkedHashMap<>();
        skipWhitespace();
        if (consume('}')) {
            return object;
        }
        do {
            skipWhitespace();
            if (at == text.length() || text.charAt(at) != '"') {
                throw error("a member name in double quotes expected");
            }
            String name = string();
            skipWhitespace();
            expect(':');
            object.put(name, value(depth));
            skipWhitespace();
        } while (consume(','));
        expect('}');
        return object;
    }

    private List<Object> array(int depth) {
        checkDepth(depth);
        at++;
        List<Object> array = new ArrayList<>();
        skipWhitespace();
        if (consume(']')) {
            return array;
        }
        do {
            array.add(value(depth));
            skipWhitespace();
        } while (consume(','));
        expect(']');
        return array;
    }

    private String string() {
        at++;
        StringBuilder string = new StringBuilder();
        while (true) {
            if (at == text.length()) {
                throw error("the text ended inside a string");
            }
            char c = text.charAt(at++);
            if (c == '"') {
                return string.toString();
            }
            if (c < 0x20) {
                throw error("a control character inside a string");
            }
            if (c != '\\') {
                string.append(c);
                continue;
            }
            if (at == text.length()) {
                throw error("the text ended inside an escape");
            }
            char escaped = text.charAt(at++);
            switch (escaped) {
                case '"', '\\', '/' -> string.append(escaped);
                case 'b' -> string.append('\b');
                case 'f' -> string.append('\f');
                case 'n' -> string.append('\n');
                case 'r' -> string.append('\r');
                case 't' -> string.append('\t');
                case 'u' -> string.append(unicodeEscape());
                default -> throw error("an unknown escape \\" + escaped);
            }
        }
    }

    private char unicodeEscape() {
        if (text.length() - at < 4) {
            throw error("the text ended inside a \\u escape");
        }
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int digit = Character.digit(text.charAt(at++), 16);
            if (digit < 0) {
                throw error("a \\u escape with a character that is not a hex digit");
            }
            value = value * 16 + digit;
        }
        return (char) value;
    }

    private NumberText number() {
        int start = at;
        consume('-');
        if (consume('0')) {
            if (at < text.length() && isDigit(text.charAt(at))) {
                throw error("a number with a leading zero");
            }
        } else {
            digits("a digit expected in a number");
        }
        if (consume('.')) {
            digits("a digit expected after a decimal point");
        }
        if (consume('e') || consume('E')) {
            if (!consume('+')) {
                consume('-');
            }
            digits("a digit expected in an exponent");
        }
        return new NumberText(text.substring(start, at));
    }

    private void digits(String missing) {
        int start = at;
        while (at < text.length() && isDigit(text.charAt(at))) {
            at++;
        }
        if (at == start) {
            throw error(missing);
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, at)) {
            throw error("unexpected '" + text.charAt(at) + "'");
        }
        at += word.length();
        return value;
    }

    private void skipWhitespace() {
        while (at < text.length()) {
            char c = text.charAt(at);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            at++;
        }
    }

    private boolean consume(char c) {
        if (at < text.length() && text.charAt(at) == c) {
            at++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!consume(c)) {
            throw error(at == text.length() ? "'" + c + "' expected, the text ended" : "'" + c + "' expected");
        }
    }

    private void checkDepth(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("objects and arrays nested deeper than " + MAX_DEPTH);
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at character " + at);
    }
}
