package io.jvfio.vfiouser.fuzz;

/**
 * Both fuzzers in one run, for {@code bench/run fuzz}: {@code FuzzMain [decoder-inputs] [server-inputs]
 * [seed]} (defaults 10,000,000, 5,000 and 1). Prints each fuzzer's result, then as its last line
 * {@code fuzz: inputs=<n> crashes=<n>} over both; exits 1 if anything crashed.
 */
public final class FuzzMain {
    private FuzzMain() {}

    public static void main(String[] args) {
        long decoderInputs = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000;
        long serverInputs = args.length > 1 ? Long.parseLong(args[1]) : 5_000;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : 1;
        FuzzResult decoder = DecoderFuzzer.run(seed, decoderInputs);
        System.out.println(decoder);
        FuzzResult server = ServerFuzzer.run(seed, serverInputs);
        System.out.println(server);
        FuzzResult total = decoder.plus(server);
        System.out.println("fuzz: inputs=" + total.inputs() + " crashes=" + total.crashes());
        if (total.crashes() > 0) {
            System.exit(1);
        }
    }
}
