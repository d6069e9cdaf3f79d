package io.jvfio.devices.virtio;

import java.security.SecureRandom;
import java.util.Random;

/**
 * Where a {@link VirtioRng}'s bytes come from: the host's {@link SecureRandom}, or, for tests, a seeded
 * stream whose every byte anyone can compute: byte {@code i} is byte {@code i % 8} (least significant
 * first) of the {@code i / 8}-th {@link Random#nextLong()} of {@code new java.util.Random(seed)}, whose
 * algorithm its Javadoc fixes. The stream does not depend on how it is split into buffers.
 */
public sealed interface EntropySource {
    /** Fills {@code destination} with the next bytes. */
    void fill(byte[] destination);

    /** One line saying which source this is. */
    String describe();

    static EntropySource host() {
        return new Host(new SecureRandom());
    }

    static EntropySource seeded(long seed) {
        return new Seeded(seed);
    }

    /** The host's entropy. */
    final class Host implements EntropySource {
        private final SecureRandom random;

        private Host(SecureRandom random) {
            this.random = random;
        }

        @Override
        public void fill(byte[] destination) {
            random.nextBytes(destination);
        }

        @Override
        public String describe() {
            return "entropy from the host (" + random.getAlgorithm() + ")";
        }
    }

    /** The reproducible stream of the class comment. Not thread-safe: the device's lock guards it. */
    final class Seeded implements EntropySource {
        private final long seed;
        private final Random random;
        private long word;
        /** Bytes of {@code word} not yet handed out. */
        private int left;

        private Seeded(long seed) {
            this.seed = seed;
            this.random = new Random(seed);
        }

        @Override
        public void fill(byte[] destination) {
            for (int i = 0; i < destination.length; i++) {
                if (left == 0) {
                    word = random.nextLong();
                    left = Long.BYTES;
                }
                destination[i] = (byte) word;
                word >>>= 8;
                left--;
            }
        }

        @Override
        public String describe() {
            return "seeded test stream (seed " + seed + "), NOT random";
        }
    }
}
