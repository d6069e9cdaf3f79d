package io.jvfio.vfiouser.testing;

import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.PostedWrite;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The device model the vfio-user tests serve. Region 0 (0x100 bytes, callbacks) holds registers:
 * <ul>
 * <li>0x00 scratch (read/write, cleared by reset)</li>
 * <li>0x08 write: pulse edge IRQ 0.0</li>
 * <li>0x10 write 1/0: assert/de-assert level IRQ 1.0</li>
 * <li>0x20 DMA address, 0x28 DMA length, 0x30 write: DMA-read length bytes at the address, add one to
 * each, DMA-write them right after (address + length)</li>
 * <li>0x38 read: resets so far; 0x40 read: the status of IRQ 1 (1 while asserted); 0x48 write: ack IRQ 1
 * (de-assert)</li>
 * </ul>
 * Region 1 is 0x2000 bytes of shared memory, mmap'able whole. Region 2 is 0x3000 bytes of shared
 * memory of which [0x1000, 0x2000) is mmap'able; the rest is trapped to a handler that serves it
 * from the same memory, counting accesses the client waited for apart from posted writes.
 */
public final class ProtocolTestModel implements DeviceModel {
    public static final String COMPATIBLE = "jvfio,test-device";
    public final AtomicInteger resets = new AtomicInteger();
    /** Accesses to region 2's trapped part that the client waited for. */
    public final AtomicInteger trappedAccesses = new AtomicInteger();
    /** Writes to region 2's trapped part that the client did not wait for ({@link RegionHandler#postedWrite}). */
    public final AtomicInteger postedAccesses = new AtomicInteger();

    private volatile DeviceContext context;
    private volatile long scratch;
    private volatile long dmaAddress;
    private volatile long dmaLength;
    private volatile String dmaError;

    @Override
    public List<RegionSpec> regions() {
        RegionHandler registers = new RegionHandler() {
            @Override
            public long read(long offset, int size) {
                return switch ((int) offset) {
                    case 0x00 -> scratch;
                    case 0x20 -> dmaAddress;
                    case 0x28 -> dmaLength;
                    case 0x38 -> resets.get();
                    case 0x40 -> context.irq(1, 0).isAsserted() ? 1 : 0;
                    default -> 0;
                };
            }

            @Override
            public void write(long offset, int size, long value) {
                switch ((int) offset) {
                    case 0x00 -> scratch = value;
                    case 0x08 -> context.irq(0, 0).pulse();
                    case 0x10 -> {
                        if (value != 0) {
                            context.irq(1, 0).raise();
                        } else {
                            context.irq(1, 0).lower();
                        }
                    }
                    case 0x20 -> dmaAddress = value;
                    case 0x28 -> dmaLength = value;
                    case 0x30 -> dmaCopy();
                    case 0x48 -> context.irq(1, 0).lower();
                    default -> {}
                }
            }
        };
        RegionHandler trapped = new RegionHandler() {
            @Override
            public long read(long offset, int size) {
                trappedAccesses.incrementAndGet();
                return context.regionMemory(2).read(offset, size);
            }

            @Override
            public void write(long offset, int size, long value) {
                // counted once done: a test that waits for the count then reads what was written
                context.regionMemory(2).write(offset, size, value);
                trappedAccesses.incrementAndGet();
            }

            @Override
            public void postedWrite(long offset, int size, long value) {
                context.regionMemory(2).write(offset, size, value);
                postedAccesses.incrementAndGet();
            }
        };
        return List.of(
                RegionSpec.callbacks(0, 0x100, registers),
                RegionSpec.shared(1, 0x2000),
                RegionSpec.sparse(2, 0x3000, List.of(new SparseArea(0x1000, 0x1000)), trapped));
    }

    /**
     * Two posted writes at 0x10 of region 2's trapped part, 0xD00B and 0xD00C: each lands in the region's
     * memory as a trapped write does, so a read there tells which one came.
     */
    @Override
    public List<PostedWrite> postedWrites() {
        return List.of(new PostedWrite(2, 0x10, 4, 0xD00B), new PostedWrite(2, 0x10, 4, 0xD00C));
    }

    private void dmaCopy() {
        try {
            byte[] data = new byte[(int) dmaLength];
            context.dmaRead(dmaAddress, data);
            for (int i = 0; i < data.length; i++) {
                data[i]++;
            }
            context.dmaWrite(dmaAddress + dmaLength, data);
            dmaError = null;
        } catch (IOException e) {
            dmaError = e.getMessage();
            throw new UncheckedIOException(e);
        }
    }

    public String dmaError() {
        return dmaError;
    }

    @Override
    public List<ModelIrqSpec> irqs() {
        return List.of(ModelIrqSpec.edge(0, 1), ModelIrqSpec.level(1, 1));
    }

    @Override
    public void attach(DeviceContext context) {
        this.context = context;
    }

    public DeviceContext context() {
        return context;
    }

    @Override
    public void reset() {
        scratch = 0;
        resets.incrementAndGet();
    }

    @Override
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        return Optional.of(identity());
    }

    public static DeviceTreeIdentity identity() {
        return new DeviceTreeIdentity(
                List.of(COMPATIBLE, "jvfio,generic"),
                Map.of("reg-shift", new byte[] {0, 0, 0, 2}),
                List.of(new DeviceTreeIdentity.IrqAck(1, 0, 0x40, 1, 0x48, 1)));
    }
}
