package io.jvfio.vfio;

import java.util.StringJoiner;

/** Renders flag words as names joined by {@code |}, with unknown bits in hex. */
final class Flags {
    private Flags() {}

    static String names(int flags, String[] bitNames) {
        StringJoiner joiner = new StringJoiner("|");
        int unknown = flags;
        for (int bit = 0; bit < bitNames.length; bit++) {
            if ((flags & (1 << bit)) != 0) {
                joiner.add(bitNames[bit]);
                unknown &= ~(1 << bit);
            }
        }
        if (unknown != 0) {
            joiner.add("0x" + Integer.toHexString(unknown));
        }
        return joiner.length() == 0 ? "-" : joiner.toString();
    }
}
