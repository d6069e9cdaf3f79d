package io.jvfio.bench;

import io.jvfio.machine.IrqchipSelection;
import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.bus.MmioDevice;
import io.jvfio.machine.irqchip.IrqchipMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * mmio-exit: the guest {@code mmio-loop} (N trapped 32-bit MMIO writes, then an exit-port write) through
 * jvfio's full machine, with an in-process {@link MmioDevice} on the MMIO bus counting the writes,
 * against the C baseline {@code bench/c/mmio_exit.c}, which runs the same image (written out from this
 * classpath, so both run the same bytes) with the same VM setup and a bare KVM_RUN loop. Both sides time
 * from loading the image to the exit-port exit ({@link Machine#start} to {@link Machine#awaitExit});
 * VM creation is outside the timing on both. Warm-up (discarded): one C round, then jvfio rounds of
 * WARMUP_ITERATIONS exits each, at least JVFIO_WARMUP_ROUNDS of them and then until the JIT compiles for
 * under 2% of one (at most four times as many): under nested TCG the JIT compiles slowly.
 * Then rounds alternate, the side going first switching each round; the result is the ratio of the
 * medians of ns per exit.
 *
 * <pre>MmioExit MMIO_EXIT_BINARY [ROUNDS [ITERATIONS [WARMUP_ITERATIONS [JVFIO_WARMUP_ROUNDS]]]]</pre>
 */
public final class MmioExit {
    static final long DEVICE_BASE = 0xD000_0000L;
    static final long DEVICE_SIZE = 0x1000;
    static final String COMPATIBLE = "jvfio,bench-mmio";

    private MmioExit() {}

    /** Counts the guest's writes; reads return 0. Only the vCPU thread touches it until the guest exits. */
    static final class CountingDevice implements MmioDevice {
        long writes;

        @Override
        public long read(long offset, int size) {
            return 0;
        }

        @Override
        public void write(long offset, int size, long value) {
            writes++;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: MmioExit MMIO_EXIT_BINARY [ROUNDS [ITERATIONS [WARMUP_ITERATIONS"
                    + " [JVFIO_WARMUP_ROUNDS]]]]");
            System.exit(2);
        }
        String baseline = args[0];
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        long iterations = args.length > 2 ? Long.parseLong(args[2]) : 20_000;
        long warmupIterations = args.length > 3 ? Long.parseLong(args[3]) : iterations;
        int jvfioWarmupRounds = args.length > 4 ? Integer.parseInt(args[4]) : 3;

        byte[] image = MachineConfig.guestResource("mmio-loop");
        Path imageFile = Files.createTempFile("jvfio-bench-mmio-loop", ".elf");
        try {
            Files.write(imageFile, image);
            System.out.println("irqchip: jvfio " + IrqchipSelection.forHost(IrqchipMode.AUTO)
                    + ", C on KVM's in-kernel one (a write exit involves neither)");
            Interleaved.Result result = Interleaved.compare(
                    "exit",
                    rounds,
                    jvfioWarmupRounds,
                    iterations,
                    warmupIterations,
                    n -> Baseline.run(List.of(baseline, imageFile.toString(), Long.toString(n))),
                    n -> jvfioRound(image, n),
                    n -> RawExitLoop.run(image, n));
            Rounds cRounds = result.c();
            Rounds jRounds = result.jvfio();
            System.out.println(resultLine(cRounds, jRounds));
        } finally {
            Files.deleteIfExists(imageFile);
        }
    }

    /** One run of the guest through a fresh machine; returns ns per exit from start to the guest's exit. */
    static double jvfioRound(byte[] image, long iterations) throws Exception {
        CountingDevice device = new CountingDevice();
        MachineConfig config = MachineConfig.builder()
                .guest(image)
                .args(iterations)
                .device(new BootInfo.Device(
                        COMPATIBLE, List.of(new BootInfo.Region(DEVICE_BASE, DEVICE_SIZE)), List.of()))
                .build();
        try (Machine machine = Machine.create(config)) {
            machine.mmio().add("bench-mmio", DEVICE_BASE, DEVICE_SIZE, device);
            long start = System.nanoTime();
            machine.start();
            int code = machine.awaitExit(Duration.ofMinutes(10));
            long elapsed = System.nanoTime() - start;
            if (code != 0) {
                throw new IOException("mmio-loop exited with " + code + "; console:\n" + machine.console());
            }
            if (device.writes != iterations) {
                throw new IOException(
                        "the device counted " + device.writes + " writes for " + iterations + " iterations");
            }
            return (double) elapsed / iterations;
        }
    }

    /** The last line: jvfio's median over C's, then both medians in ns per exit. */
    static String resultLine(Rounds c, Rounds jvfio) {
        return String.format(
                Locale.ROOT,
                "mmio-exit: ratio=%.2f (jvfio %.0f ns, C %.0f ns)",
                jvfio.median() / c.median(),
                jvfio.median(),
                c.median());
    }
}
