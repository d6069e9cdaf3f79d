package io.jvfio.vfiouser.fuzz;

import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * The device the server fuzzer serves: every kind of region (callbacks, shared memory, sparse with a
 * trapped rest), an edge and a level IRQ index of two lines each, DMA on request, reset and a
 * device-tree identity. It is not under test, so it caps what a hostile client could make it allocate
 * (a DMA is at most {@link #MAX_DMA} bytes).
 */
public final class FuzzDevice implements DeviceModel {
    public static final long SCRATCH = 0x00;
    public static final long PULSE = 0x08;
    public static final long LEVEL = 0x10;
    public static final long DMA_ADDRESS = 0x20;
    public static final long DMA_LENGTH = 0x28;
    public static final long DMA_GO = 0x30;
    public static final long LEVEL_STATUS = 0x40;
    public static final long LEVEL_ACK = 0x48;
    static final int MAX_DMA = 4096;

    private volatile DeviceContext context;
    private volatile long scratch;
    private volatile long dmaAddress;
    private volatile long dmaLength;

    @Override
    public List<RegionSpec> regions() {
        RegionHandler registers = new RegionHandler() {
            @Override
            public long read(long offset, int size) {
                if (offset == SCRATCH) {
                    return scratch;
                }
                if (offset == LEVEL_STATUS) {
                    return context.irq(1, 0).isAsserted() ? 1 : 0;
                }
                return offset == DMA_ADDRESS ? dmaAddress : offset == DMA_LENGTH ? dmaLength : 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                if (offset == SCRATCH) {
                    scratch = value;
                } else if (offset == PULSE) {
                    context.irq(0, (int) (value & 1)).pulse();
                } else if (offset == LEVEL) {
                    if (value != 0) {
                        context.irq(1, 0).raise();
                    } else {
                        context.irq(1, 0).lower();
                    }
                } else if (offset == DMA_ADDRESS) {
                    dmaAddress = value;
                } else if (offset == DMA_LENGTH) {
                    dmaLength = Math.floorMod(value, MAX_DMA + 1);
                } else if (offset == DMA_GO) {
                    dma();
                } else if (offset == LEVEL_ACK) {
                    context.irq(1, 0).lower();
                }
            }
        };
        RegionHandler trapped = new RegionHandler() {
            @Override
            public long read(long offset, int size) {
                return context.regionMemory(2).read(offset, size);
            }

            @Override
            public void write(long offset, int size, long value) {
                context.regionMemory(2).write(offset, size, value);
            }
        };
        return List.of(
                RegionSpec.callbacks(0, 0x100, registers),
                RegionSpec.shared(1, 0x2000),
                RegionSpec.sparse(2, 0x3000, List.of(new SparseArea(0x1000, 0x1000)), trapped));
    }

    private void dma() {
        try {
            byte[] data = new byte[(int) dmaLength];
            context.dmaRead(dmaAddress, data);
            for (int i = 0; i < data.length; i++) {
                data[i]++;
            }
            context.dmaWrite(dmaAddress + dmaLength, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<ModelIrqSpec> irqs() {
        return List.of(ModelIrqSpec.edge(0, 2), ModelIrqSpec.level(1, 2));
    }

    @Override
    public void attach(DeviceContext context) {
        this.context = context;
    }

    @Override
    public void reset() {
        scratch = 0;
    }

    @Override
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        return Optional.of(GoldenMessages.identity());
    }
}
