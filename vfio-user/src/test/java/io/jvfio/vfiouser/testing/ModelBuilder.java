package io.jvfio.vfiouser.testing;

import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.RegionSpec;
import java.util.List;

/**
 * A device model made of the few pieces a test is about, {@link DeviceModel}'s defaults for the rest:
 * no regions and no IRQs unless given, callbacks that do nothing unless given. A test that fails a
 * callback says so in one line instead of an anonymous class.
 */
public final class ModelBuilder {
    /** {@link DeviceModel#dmaMapped}. */
    @FunctionalInterface
    public interface DmaMapped {
        void dmaMapped(long iova, long size, boolean readable, boolean writable);
    }

    /** {@link DeviceModel#dmaUnmapped}. */
    @FunctionalInterface
    public interface DmaUnmapped {
        void dmaUnmapped(long iova, long size);
    }

    private List<RegionSpec> regions = List.of();
    private List<ModelIrqSpec> irqs = List.of();
    private Runnable clientConnected = () -> {};
    private DmaMapped dmaMapped = (iova, size, readable, writable) -> {};
    private DmaUnmapped dmaUnmapped = (iova, size) -> {};

    private ModelBuilder() {}

    public static ModelBuilder model() {
        return new ModelBuilder();
    }

    public ModelBuilder regions(RegionSpec... specs) {
        regions = List.of(specs);
        return this;
    }

    public ModelBuilder irqs(ModelIrqSpec... specs) {
        irqs = List.of(specs);
        return this;
    }

    public ModelBuilder onClientConnected(Runnable callback) {
        clientConnected = callback;
        return this;
    }

    public ModelBuilder onDmaMapped(DmaMapped callback) {
        dmaMapped = callback;
        return this;
    }

    public ModelBuilder onDmaUnmapped(DmaUnmapped callback) {
        dmaUnmapped = callback;
        return this;
    }

    public DeviceModel build() {
        List<RegionSpec> builtRegions = regions;
        List<ModelIrqSpec> builtIrqs = irqs;
        Runnable builtClientConnected = clientConnected;
        DmaMapped builtDmaMapped = dmaMapped;
        DmaUnmapped builtDmaUnmapped = dmaUnmapped;
        return new DeviceModel() {
            @Override
            public List<RegionSpec> regions() {
                return builtRegions;
            }

            @Override
            public List<ModelIrqSpec> irqs() {
                return builtIrqs;
            }

            @Override
            public void clientConnected() {
                builtClientConnected.run();
            }

            @Override
            public void dmaMapped(long iova, long size, boolean readable, boolean writable) {
                builtDmaMapped.dmaMapped(iova, size, readable, writable);
            }

            @Override
            public void dmaUnmapped(long iova, long size) {
                builtDmaUnmapped.dmaUnmapped(iova, size);
            }
        };
    }
}
