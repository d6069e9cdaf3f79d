package io.jvfio.vfiouser.server;

import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.DeviceTreeIdentity;
import java.util.List;
import java.util.Optional;

/**
 * A device written in Java and served over vfio-user by {@link VfioUserServer}. The model declares
 * its regions and IRQ indexes once; region callbacks, reset and the DMA notifications come on the
 * connection's thread, one at a time. The model raises IRQs and does DMA through the
 * {@link DeviceContext} it gets in {@link #attach}, from any thread.
 */
public interface DeviceModel {
    /** VFIO_DEVICE_FLAGS_* of DEVICE_GET_INFO: a platform device with reset by default. */
    default int deviceFlags() {
        return DeviceInfo.FLAG_PLATFORM | DeviceInfo.FLAG_RESET;
    }

    /** The regions; indexes need not be dense (a gap reads as an empty region). */
    List<RegionSpec> regions();

    /** The IRQ indexes; none by default. */
    default List<ModelIrqSpec> irqs() {
        return List.of();
    }

    /**
     * The register writes the model takes posted, through ioeventfds a client may ask for
     * ({@link PostedWrite}); none by default. Each names a region served by callbacks.
     */
    default List<PostedWrite> postedWrites() {
        return List.of();
    }

    /** Called once, before any client connects, with the handle for IRQs, memory and DMA. */
    default void attach(DeviceContext context) {}

    /** DEVICE_RESET. */
    default void reset() {}

    /** jvfio's device-tree identity extension; empty if the model has none. */
    default Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        return Optional.empty();
    }

    /** The client made [iova, iova+size) available for DMA. */
    default void dmaMapped(long iova, long size, boolean readable, boolean writable) {}

    /** The client withdrew a DMA range; the server no longer accesses it. */
    default void dmaUnmapped(long iova, long size) {}

    /** A client connected and negotiated. */
    default void clientConnected() {}

    /** The client went away; its eventfds and DMA mappings are already released. */
    default void clientDisconnected() {}
}
