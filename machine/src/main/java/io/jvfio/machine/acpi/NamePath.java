package io.jvfio.machine.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An AML NameString (ACPI 6.5 section 20.2.2): an optional root prefix {@code \} or parent prefixes
 * {@code ^}, then name segments of exactly four characters (shorter ones in ASL are padded with {@code _},
 * so {@code _SB} is {@code _SB_}). As an operand it is a reference to the named object.
 */
public record NamePath(boolean rooted, int parentPrefixes, List<String> segments) implements Aml.Operand {
    static final int ROOT_CHAR = '\\';
    static final int PARENT_PREFIX_CHAR = '^';
    static final int DUAL_NAME_PREFIX = 0x2E;
    static final int MULTI_NAME_PREFIX = 0x2F;
    static final int NULL_NAME = 0x00;
    private static final int SEGMENT_LENGTH = 4;
    private static final int MAX_COUNT = 255;

    public NamePath {
        if (rooted && parentPrefixes > 0) {
            throw new IllegalArgumentException(
                    "an ACPI name path is either rooted (\\) or relative to a parent (^), not both");
        }
        if (parentPrefixes < 0 || parentPrefixes > MAX_COUNT) {
            throw new IllegalArgumentException(
                    "an ACPI name path takes 0.." + MAX_COUNT + " parent prefixes, got " + parentPrefixes);
        }
        if (segments.size() > MAX_COUNT) {
            throw new IllegalArgumentException(
                    "an ACPI name path holds at most " + MAX_COUNT + " segments, got " + segments.size());
        }
        if (segments.isEmpty() && !rooted && parentPrefixes == 0) {
            throw new IllegalArgumentException("an empty ACPI name path names nothing");
        }
        segments = segments.stream().map(NamePath::segment).toList();
    }

    /** Parses ASL's notation: {@code _HID}, {@code \_SB.COM1}, {@code ^^PCI0}, {@code \}. */
    public static NamePath of(String path) {
        int at = 0;
        boolean rooted = path.startsWith("\\");
        if (rooted) {
            at++;
        }
        int parents = 0;
        while (at < path.length() && path.charAt(at) == PARENT_PREFIX_CHAR) {
            parents++;
            at++;
        }
        String rest = path.substring(at);
        List<String> segments = new ArrayList<>();
        if (!rest.isEmpty()) {
            for (String segment : rest.split("\\.", -1)) {
                segments.add(segment);
            }
        }
        return new NamePath(rooted, parents, segments);
    }

    /** A path of one segment relative to the current scope, checked as {@link #segment}. */
    public static NamePath single(String segment) {
        return new NamePath(false, 0, List.of(segment));
    }

    /**
     * {@code name} as a four-character NameSeg: 1-4 characters, the first A-Z or _, the rest A-Z, 0-9 or _,
     * padded with _.
     */
    public static String segment(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("an ACPI name segment is empty (two dots, or a dot at an end?)");
        }
        if (name.length() > SEGMENT_LENGTH) {
            throw new IllegalArgumentException("ACPI name segment \"" + name + "\" is longer than 4 characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean valid = c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9';
            if (!valid) {
                throw new IllegalArgumentException(
                        "ACPI name segment \"" + name + "\" must start with A-Z or _ and hold only A-Z, 0-9 and _");
            }
        }
        return (name + "___").substring(0, SEGMENT_LENGTH);
    }

    @Override
    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (rooted) {
            out.write(ROOT_CHAR);
        }
        for (int i = 0; i < parentPrefixes; i++) {
            out.write(PARENT_PREFIX_CHAR);
        }
        switch (segments.size()) {
            case 0 -> out.write(NULL_NAME);
            case 1 -> {}
            case 2 -> out.write(DUAL_NAME_PREFIX);
            default -> {
                out.write(MULTI_NAME_PREFIX);
                out.write(segments.size());
            }
        }
        for (String segment : segments) {
            out.writeBytes(segment.getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    /** ASL's notation of this path, as {@link #of} reads it. */
    @Override
    public String toString() {
        return (rooted ? "\\" : "") + "^".repeat(parentPrefixes) + String.join(".", segments);
    }
}
