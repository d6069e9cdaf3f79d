package io.jvfio.vfiouser.fuzz;

import io.jvfio.vfio.RegionCapability;
import io.jvfio.vfiouser.Codec;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.Payload;
import io.jvfio.vfiouser.PlatformExtension;
import io.jvfio.vfiouser.ProtocolException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Fuzzes the vfio-user decoders in this process: each mutated message goes through
 * {@link Codec#decodeMessage} (header, size check, payload), through {@link Codec#decode} with the
 * size check bypassed (so a wrong size still reaches the payload decoders), and what decodes is
 * decoded further (the device-tree identity of DEVICE_FEATURE, the sparse-mmap areas of a region's
 * capabilities) and encoded back. The only acceptable failure is a {@link ProtocolException}
 * (including {@code FramingException}); anything else thrown is a crash.
 */
public final class DecoderFuzzer {
    private DecoderFuzzer() {}

    /** Tries {@code inputs} mutated messages from {@code seed}. */
    public static FuzzResult run(long seed, long inputs) {
        List<byte[]> corpus =
                GoldenMessages.all().stream().map(GoldenMessages.Golden::bytes).toList();
        Mutator mutator = new Mutator(seed, corpus);
        long crashes = 0;
        long accepted = 0;
        byte[] firstCrash = null;
        String cause = null;
        long start = System.nanoTime();
        for (long i = 0; i < inputs; i++) {
            byte[] input = mutator.next();
            try {
                if (decodeAll(input)) {
                    accepted++;
                }
            } catch (Throwable t) {
                crashes++;
                if (firstCrash == null) {
                    firstCrash = input;
                    cause = t.toString();
                }
            }
        }
        return FuzzResult.of("decoder", seed, inputs, accepted, crashes, firstCrash, cause, System.nanoTime() - start);
    }

    /**
     * Decodes {@code input} every way the module does; returns whether it decoded as a whole message,
     * or throws what the decoders threw other than a {@link ProtocolException}.
     */
    public static boolean decodeAll(byte[] input) throws Throwable {
        boolean accepted = false;
        try {
            Codec.Message message = Codec.decodeMessage(input);
            accepted = true;
            digest(message.payload());
        } catch (ProtocolException expected) {
            // refused: what a malformed message should get
        }
        if (input.length >= Header.SIZE) {
            try {
                Header header =
                        Header.decode(ByteBuffer.wrap(input, 0, Header.SIZE).order(Codec.ORDER));
                ByteBuffer body = ByteBuffer.wrap(input, Header.SIZE, input.length - Header.SIZE)
                        .slice()
                        .order(Codec.ORDER);
                digest(Codec.decode(header, body));
            } catch (ProtocolException expected) {
                // refused
            }
        }
        return accepted;
    }

    /** Decodes what a payload carries and encodes the payload back: neither may throw but ProtocolException. */
    private static void digest(Payload payload) throws ProtocolException {
        if (payload instanceof Payload.DeviceFeature feature && feature.data().length() > 0) {
            try {
                PlatformExtension.decode(feature.data().toArray());
            } catch (ProtocolException expected) {
                // refused
            }
        }
        if (payload instanceof Payload.DeviceGetRegionInfo info) {
            for (Payload.Capability capability : info.capabilities()) {
                if (capability.id() == RegionCapability.SPARSE_MMAP) {
                    try {
                        Codec.sparseAreas(capability);
                    } catch (ProtocolException expected) {
                        // refused
                    }
                }
            }
        }
        int size = payload.encodedSize();
        ByteBuffer out = ByteBuffer.allocate(size).order(Codec.ORDER);
        payload.encodeTo(out);
        if (out.hasRemaining()) {
            throw new IllegalStateException(
                    payload.getClass().getSimpleName() + " encoded " + out.position() + " of its " + size + " bytes");
        }
    }

    /** {@code DecoderFuzzer [seed] [inputs]}: runs and prints {@code fuzz: inputs=<n> crashes=<n>} last. */
    public static void main(String[] args) {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
        long inputs = args.length > 1 ? Long.parseLong(args[1]) : 10_000_000;
        FuzzResult result = run(seed, inputs);
        System.out.println(result);
        System.out.println("fuzz: inputs=" + result.inputs() + " crashes=" + result.crashes());
        if (result.crashes() > 0) {
            System.exit(1);
        }
    }
}
