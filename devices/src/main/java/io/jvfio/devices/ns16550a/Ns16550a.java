package io.jvfio.devices.ns16550a;

import io.jvfio.chips.serial.Uart16550;
import io.jvfio.chips.serial.Uart16550Registers;
import io.jvfio.devices.DeviceOptions;
import io.jvfio.devices.ModelledDevice;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.ModelIrqLine;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A 16550A UART as a vfio-user platform device (docs/devices/ns16550a.md): the {@link Uart16550} of
 * module {@code chips} behind one MMIO region, its interrupt on one level IRQ, and its serial line on an
 * optional {@link SerialSocket}. The registers sit at consecutive byte offsets (reg-shift 0, reg-io-width
 * 1), as Linux's 8250_pnp maps a {@code PNP0501} with a memory resource.
 *
 * <p>The UART's own lock guards its registers; its interrupt sink runs with that lock held and sets the
 * IRQ line, so the lock order is the UART, then the line. The character timeout runs on this model's
 * clock thread, the far end on the socket's threads; region callbacks and reset come on the server's
 * connection thread.
 */
public final class Ns16550a implements ModelledDevice {
    private static final System.Logger LOG = System.getLogger(Ns16550a.class.getName());
    /** The device-tree compatible string, which jvfio's ACPI writer turns into {@code _HID PNP0501}. */
    public static final String COMPATIBLE = "ns16550a";

    public static final int REGS_REGION = 0;
    /** One page: what an SoC decodes for a UART, and what the platform bus gives a region anyway. */
    public static final long REGS_SIZE = 0x1000;

    public static final int IRQ_INDEX = 0;
    /** Register i at byte offset i << REG_SHIFT. */
    public static final int REG_SHIFT = 0;
    /** Each register is one byte wide. */
    public static final int REG_IO_WIDTH = 1;

    private final Uart16550 uart;
    private final ScheduledThreadPoolExecutor clockThread;
    private final Optional<SerialSocket> farEnd;
    private volatile ModelIrqLine line;
    private final Object counts = new Object();
    private long raises;
    private long resets;
    private long ignoredAccesses;
    private final Set<String> loggedCauses = new HashSet<>();
    private boolean closed;

    private Ns16550a(Optional<Path> serialSocket) throws IOException {
        clockThread = new ScheduledThreadPoolExecutor(
                1, Thread.ofPlatform().daemon().name("jvfio ns16550a clock").factory());
        clockThread.setRemoveOnCancelPolicy(true);
        clockThread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        try {
            farEnd = serialSocket.isPresent() ? Optional.of(SerialSocket.listen(serialSocket.get())) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            clockThread.shutdownNow();
            throw e;
        }
        uart = Uart16550.builder()
                .interruptSink(this::setLine)
                .transmitter(value -> farEnd.map(end -> end.transmit(value)).orElse(true))
                .clock((delayNanos, task) -> {
                    try {
                        var scheduled = clockThread.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
                        return () -> scheduled.cancel(false);
                    } catch (RejectedExecutionException e) {
                        // Closed: the model serves nothing more, so no timeout is owed to anyone.
                        return () -> {};
                    }
                })
                // A SoC's UART drives its interrupt pin directly; there is no PC board gating it with OUT2.
                .interruptOutput(Uart16550.InterruptOutput.DIRECT)
                .build();
        farEnd.ifPresent(end -> end.start(uart));
    }

    /**
     * A UART whose serial line is a Unix socket listening at {@code serialSocket} (bytes both ways, one
     * peer at a time), or, when empty, a line to nowhere: transmitted bytes are dropped, nothing arrives.
     *
     * @throws IOException when the socket cannot listen
     */
    public static Ns16550a create(Optional<Path> serialSocket) throws IOException {
        return new Ns16550a(serialSocket);
    }

    /**
     * From catalog options: only {@code --serial-socket} applies.
     *
     * @throws IllegalArgumentException naming an option of another model, or a socket that cannot listen
     */
    public static Ns16550a create(DeviceOptions options) {
        if (options.irqs().isPresent() || options.levelMask().isPresent()) {
            throw new IllegalArgumentException(
                    "ns16550a has one level IRQ: --irqs and --level-mask are options of test-device");
        }
        if (options.hasBackingFile()) {
            throw new IllegalArgumentException(
                    "--file and --read-only are options of virtio-blk; ns16550a has no backing file");
        }
        if (options.seed().isPresent()) {
            throw new IllegalArgumentException("--seed is an option of virtio-rng; ns16550a has no entropy source");
        }
        try {
            return create(options.serialSocket());
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "--serial-socket " + options.serialSocket().orElseThrow() + ": cannot listen: " + e.getMessage(),
                    e);
        }
    }

    Optional<SerialSocket> serialSocket() {
        return farEnd;
    }

    @Override
    public String kind() {
        return COMPATIBLE;
    }

    @Override
    public String describe() {
        return COMPATIBLE + ": 16550A, registers at reg-shift " + REG_SHIFT + " (io-width " + REG_IO_WIDTH
                + ") in a 0x" + Long.toHexString(REGS_SIZE) + "-byte MMIO region, one level IRQ, serial line "
                + farEnd.map(end -> "on socket " + end.path()).orElse("unconnected");
    }

    // ---- DeviceModel ----

    @Override
    public List<RegionSpec> regions() {
        return List.of(RegionSpec.callbacks(REGS_REGION, REGS_SIZE, new Registers()));
    }

    @Override
    public List<ModelIrqSpec> irqs() {
        return List.of(ModelIrqSpec.level(IRQ_INDEX, 1));
    }

    @Override
    public void attach(DeviceContext context) {
        if (line != null) {
            throw new IllegalStateException("the ns16550a is already served; create one per server");
        }
        line = context.irq(IRQ_INDEX, 0);
    }

    /** DEVICE_RESET: the chip's master reset. */
    @Override
    public void reset() {
        uart.reset();
        synchronized (counts) {
            resets++;
        }
    }

    /**
     * {@code compatible = "ns16550a"} with what a device-tree 8250 reads: reg-shift, reg-io-width and the
     * input clock (1.8432 MHz, so divisor 1 is 115200 baud). No IRQ ack: the UART's interrupt ends when
     * the guest has dealt with its cause, which takes reads of several registers, not one write.
     */
    @Override
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        Map<String, byte[]> properties = new LinkedHashMap<>();
        properties.put("reg-shift", u32(REG_SHIFT));
        properties.put("reg-io-width", u32(REG_IO_WIDTH));
        properties.put("clock-frequency", u32((int) Uart16550Registers.INPUT_CLOCK_HZ));
        return Optional.of(new DeviceTreeIdentity(List.of(COMPATIBLE), properties, List.of()));
    }

    private static byte[] u32(int value) {
        return ByteBuffer.allocate(4).putInt(value).array();
    }

    @Override
    public void clientConnected() {
        LOG.log(Level.INFO, "ns16550a: a client connected");
    }

    @Override
    public void clientDisconnected() {
        LOG.log(Level.INFO, "ns16550a: the client left");
    }

    /** With the UART's lock held: the chip's INTR output onto the vfio-user line. */
    private void setLine(boolean asserted) {
        if (asserted) {
            synchronized (counts) {
                raises++;
            }
        }
        ModelIrqLine target = line;
        if (target == null) {
            return;
        }
        if (asserted) {
            target.raise();
        } else {
            target.lower();
        }
    }

    /**
     * Counters since creation: {@code line0.raises} (the UART asserted its interrupt),
     * {@code line0.signals} (the client's trigger eventfd was signalled: an assertion, or a re-fire of a
     * line still asserted at unmask), the far end's bytes, resets and ignored register accesses.
     */
    @Override
    public Map<String, Long> totals() {
        Map<String, Long> totals = new LinkedHashMap<>();
        ModelIrqLine served = line;
        synchronized (counts) {
            totals.put("line0.raises", raises);
            totals.put("line0.signals", served == null ? 0 : served.signals());
            farEnd.ifPresent(end -> {
                totals.put("serial.sent", end.bytesSent());
                totals.put("serial.received", end.bytesReceived());
                totals.put("serial.dropped", end.bytesDropped());
            });
            totals.put("device.resets", resets);
            totals.put("regs.ignored", ignoredAccesses);
        }
        return totals;
    }

    /** Stops the far end and the clock thread. */
    @Override
    public void close() {
        synchronized (counts) {
            if (closed) {
                return;
            }
            closed = true;
        }
        farEnd.ifPresent(SerialSocket::close);
        clockThread.shutdownNow();
        try {
            clockThread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "Ns16550a[" + describe() + "]";
    }

    private void ignored(String cause) {
        synchronized (counts) {
            ignoredAccesses++;
            if (loggedCauses.size() < 64 && loggedCauses.add(cause)) {
                LOG.log(Level.INFO, "ns16550a: ignored: {0} (logged once)", cause);
            }
        }
    }

    /**
     * Region 0. A byte at offset {@code i << REG_SHIFT} is register i (0-7); a wider access reaches
     * consecutive registers a byte each, low byte first, as a byte-wide bus splits it. Offsets past the
     * eight registers read 0 and ignore writes.
     */
    private final class Registers implements RegionHandler {
        @Override
        public long read(long offset, int size) {
            long value = 0;
            for (int i = 0; i < size; i++) {
                value |= (long) readByte(offset + i) << (8 * i);
            }
            return value;
        }

        @Override
        public void write(long offset, int size, long value) {
            for (int i = 0; i < size; i++) {
                writeByte(offset + i, (int) (value >>> (8 * i)) & 0xFF);
            }
        }

        private int readByte(long offset) {
            if (offset < 0 || offset >= Uart16550Registers.REGISTER_COUNT << REG_SHIFT) {
                ignored("read past the registers at 0x" + Long.toHexString(offset));
                return 0;
            }
            return uart.read((int) (offset >> REG_SHIFT));
        }

        private void writeByte(long offset, int value) {
            if (offset < 0 || offset >= Uart16550Registers.REGISTER_COUNT << REG_SHIFT) {
                ignored("write past the registers at 0x" + Long.toHexString(offset));
                return;
            }
            uart.write((int) (offset >> REG_SHIFT), value);
        }
    }
}
