package io.jvfio.platform.devicetree;

/**
 * The name rules, as dtc checks them: node names {@code base[@unit-address]} from
 * {@code [a-zA-Z0-9,._+-]} with at most one {@code @}, a base of 1 to 31 characters (Devicetree
 * Specification 2.2.1) and a non-empty unit address; property names from {@code [a-zA-Z0-9,._+*#?-]}.
 */
final class Names {
    /** The specification's limit on a node name's base (the part before {@code @}). */
    static final int NODE_NAME_MAX = 31;

    private static final String NODE_CHARS_TEXT = "a-z A-Z 0-9 , . _ + -";
    private static final String PROPERTY_CHARS_TEXT = "a-z A-Z 0-9 , . _ + * # ? -";

    private Names() {}

    static String checkNodeName(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("node name is empty (only the root node has an empty name)");
        }
        int at = name.indexOf('@');
        String base = at < 0 ? name : name.substring(0, at);
        if (base.isEmpty()) {
            throw new IllegalArgumentException("node name \"" + name + "\": empty before '@'");
        }
        if (base.length() > NODE_NAME_MAX) {
            throw new IllegalArgumentException("node name \"" + name + "\": \"" + base + "\" is " + base.length()
                    + " characters, more than " + NODE_NAME_MAX);
        }
        if (at >= 0) {
            String unit = name.substring(at + 1);
            if (unit.isEmpty()) {
                throw new IllegalArgumentException("node name \"" + name + "\": empty unit address after '@'");
            }
            if (unit.indexOf('@') >= 0) {
                throw new IllegalArgumentException("node name \"" + name + "\": more than one '@'");
            }
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c != '@' && !isNodeChar(c)) {
                throw new IllegalArgumentException("node name \"" + printable(name) + "\": character " + describe(c)
                        + " is not allowed (allowed: " + NODE_CHARS_TEXT + ", and one '@')");
            }
        }
        return name;
    }

    static String checkPropertyName(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("property name is empty");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!isNodeChar(c) && c != '*' && c != '#' && c != '?') {
                throw new IllegalArgumentException("property name \"" + printable(name) + "\": character " + describe(c)
                        + " is not allowed (allowed: " + PROPERTY_CHARS_TEXT + ")");
            }
        }
        return name;
    }

    private static boolean isNodeChar(char c) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || c == ','
                || c == '.'
                || c == '_'
                || c == '+'
                || c == '-';
    }

    private static String describe(char c) {
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    /** The name with control and non-ASCII characters escaped, safe to put in a message. */
    static String printable(String name) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                out.append(c);
            } else {
                out.append(String.format("\\x%02x", (int) c));
            }
        }
        return out.toString();
    }
}
