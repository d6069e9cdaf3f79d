package io.jvfio.vfiouser.fuzz;

import io.jvfio.vfiouser.Header;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded random mutations of whole vfio-user messages: bit flips, bytes and words set to interesting
 * values, header fields (size, command, flags) changed, truncation, extension, chunk insertion and
 * deletion, splicing two messages, and concatenation. After a mutation the header's size is usually
 * set to the new length, so that most inputs get past framing into the payload decoders; sometimes it
 * is left wrong on purpose. The same seed always gives the same inputs.
 */
public final class Mutator {
    private static final int[] INTERESTING_32 = {
        0,
        1,
        -1,
        0x7F,
        0x80,
        0xFF,
        0x100,
        0x7FFF,
        0x8000,
        0xFFFF,
        0x10000,
        0x7FFFFFFF,
        0x80000000,
        0xFFFFFFFE,
        8,
        12,
        16,
        20,
        24,
        32,
        40,
        48,
        64,
        4095,
        4096,
        4097,
        0x100000
    };
    private static final long[] INTERESTING_64 = {
        0,
        1,
        -1,
        Long.MAX_VALUE,
        Long.MIN_VALUE,
        0xFFFFFFFFL,
        0x100000000L,
        4096,
        -4096,
        0x100000,
        0x100010,
        0x7FFFFFFFFFFFF000L
    };
    private static final byte[] INTERESTING_8 = {0, (byte) 0xFF, 0x7F, (byte) 0x80, 1, 0x10, 0x20, 0x30};
    /** Pieces of JSON the VERSION payload is made of, to splice in. */
    private static final String[] JSON_TOKENS = {
        "{",
        "}",
        "[",
        "]",
        "\"",
        ":",
        ",",
        "null",
        "1e999",
        "-1",
        "18446744073709551616",
        "0.5",
        "\"capabilities\"",
        "\"max_msg_fds\"",
        "\"max_data_xfer_size\"",
        "\"pgsizes\"",
        "\"migration\"",
        "\\u0000",
        "\\ud800",
        "true",
        " ",
        "\u00e9"
    };

    private final SplittableRandom random;
    private final List<byte[]> corpus;

    public Mutator(long seed, List<byte[]> corpus) {
        this.random = new SplittableRandom(seed);
        this.corpus = List.copyOf(corpus);
    }

    /** A random int in [0, bound). */
    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** A mutated copy of a random corpus message. */
    public byte[] next() {
        return mutate(corpus.get(random.nextInt(corpus.size())));
    }

    /** A mutated copy of {@code original}: one to four stacked mutations, then usually a size fix-up. */
    public byte[] mutate(byte[] original) {
        byte[] bytes = original.clone();
        int rounds = 1 + random.nextInt(4);
        for (int i = 0; i < rounds; i++) {
            bytes = mutateOnce(bytes);
        }
        if (bytes.length >= Header.SIZE && random.nextInt(10) < 8) {
            putInt(bytes, 4, bytes.length);
        }
        return bytes;
    }

    private byte[] mutateOnce(byte[] bytes) {
        int choice = random.nextInt(16);
        if (bytes.length == 0 && choice < 12) {
            choice = 12;
        }
        switch (choice) {
            case 0, 1 -> {
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    int bit = random.nextInt(bytes.length * 8);
                    bytes[bit / 8] ^= (byte) (1 << (bit % 8));
                }
            }
            case 2 -> bytes[random.nextInt(bytes.length)] = INTERESTING_8[random.nextInt(INTERESTING_8.length)];
            case 3, 4 -> {
                if (bytes.length >= 4) {
                    int at = position(bytes.length, 4);
                    putInt(bytes, at, INTERESTING_32[random.nextInt(INTERESTING_32.length)] + random.nextInt(3) - 1);
                }
            }
            case 5 -> {
                if (bytes.length >= 8) {
                    int at = position(bytes.length, 8);
                    putLong(bytes, at, INTERESTING_64[random.nextInt(INTERESTING_64.length)]);
                }
            }
            case 6 -> {
                if (bytes.length >= 8) {
                    putInt(bytes, 4, sizeValue(bytes.length));
                }
            }
            case 7 -> {
                if (bytes.length >= 4) {
                    int command = random.nextInt(8) == 0 ? random.nextInt(0x10000) : random.nextInt(20);
                    bytes[2] = (byte) command;
                    bytes[3] = (byte) (command >>> 8);
                }
            }
            case 8 -> {
                if (bytes.length >= 12) {
                    int[] flags = {
                        0,
                        Header.TYPE_REPLY,
                        Header.NO_REPLY,
                        Header.ERROR,
                        Header.TYPE_REPLY | Header.ERROR,
                        Header.NO_REPLY | Header.ERROR,
                        2,
                        0xF,
                        random.nextInt()
                    };
                    putInt(bytes, 8, flags[random.nextInt(flags.length)]);
                }
            }
            case 9 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
            case 10 -> {
                int extra = random.nextInt(4) == 0 ? 1 + random.nextInt(5000) : 1 + random.nextInt(64);
                int old = bytes.length;
                bytes = Arrays.copyOf(bytes, old + extra);
                if (random.nextBoolean()) {
                    for (int i = old; i < bytes.length; i++) {
                        bytes[i] = (byte) random.nextInt(256);
                    }
                }
            }
            case 11 -> {
                int from = random.nextInt(bytes.length);
                int to = from + random.nextInt(Math.min(64, bytes.length - from) + 1);
                byte[] shorter = new byte[bytes.length - (to - from)];
                System.arraycopy(bytes, 0, shorter, 0, from);
                System.arraycopy(bytes, to, shorter, from, bytes.length - to);
                bytes = shorter;
            }
            case 12 -> bytes = insert(bytes, chunk());
            case 13 -> {
                byte[] other = corpus.get(random.nextInt(corpus.size()));
                int cut = random.nextInt(bytes.length + 1);
                int otherCut = random.nextInt(other.length + 1);
                byte[] spliced = Arrays.copyOf(bytes, cut + other.length - otherCut);
                System.arraycopy(other, otherCut, spliced, cut, other.length - otherCut);
                bytes = spliced;
            }
            case 14 -> {
                byte[] other = corpus.get(random.nextInt(corpus.size()));
                byte[] both = Arrays.copyOf(bytes, bytes.length + other.length);
                System.arraycopy(other, 0, both, bytes.length, other.length);
                bytes = both;
            }
            default -> {
                if (bytes.length >= 16) {
                    // a body mutation that keeps the header: one field of the payload set to a size-like value
                    int at = Header.SIZE + random.nextInt(Math.max(1, (bytes.length - Header.SIZE) / 4)) * 4;
                    if (at + 4 <= bytes.length) {
                        putInt(bytes, at, sizeValue(bytes.length - Header.SIZE));
                    }
                }
            }
        }
        return bytes;
    }

    /** Bytes to insert: a JSON token (for VERSION) or random bytes. */
    private byte[] chunk() {
        if (random.nextBoolean()) {
            return JSON_TOKENS[random.nextInt(JSON_TOKENS.length)].getBytes(StandardCharsets.UTF_8);
        }
        byte[] chunk = new byte[1 + random.nextInt(16)];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) random.nextInt(256);
        }
        return chunk;
    }

    private byte[] insert(byte[] bytes, byte[] chunk) {
        int at = random.nextInt(bytes.length + 1);
        byte[] longer = new byte[bytes.length + chunk.length];
        System.arraycopy(bytes, 0, longer, 0, at);
        System.arraycopy(chunk, 0, longer, at, chunk.length);
        System.arraycopy(bytes, at, longer, at + chunk.length, bytes.length - at);
        return longer;
    }

    /** A size-like value near {@code length}, or an extreme one. */
    private int sizeValue(int length) {
        return switch (random.nextInt(6)) {
            case 0 -> length + random.nextInt(9) - 4;
            case 1 -> length * 2;
            case 2 -> Header.SIZE + random.nextInt(5) - 2;
            case 3 -> INTERESTING_32[random.nextInt(INTERESTING_32.length)];
            case 4 -> length + 4096;
            default -> random.nextInt();
        };
    }

    /** A position for a {@code width}-byte field: aligned most of the time, as the struct fields are. */
    private int position(int length, int width) {
        int at = random.nextInt(length - width + 1);
        return random.nextInt(4) == 0 ? at : at & -width;
    }

    static void putInt(byte[] bytes, int at, int value) {
        for (int i = 0; i < 4; i++) {
            bytes[at + i] = (byte) (value >>> (8 * i));
        }
    }

    static void putLong(byte[] bytes, int at, long value) {
        for (int i = 0; i < 8; i++) {
            bytes[at + i] = (byte) (value >>> (8 * i));
        }
    }
}
