package io.jvfio.devices;

import io.jvfio.vfiouser.server.DeviceModel;
import java.util.Map;

/**
 * A device model that its creator owns: serve it with a {@link io.jvfio.vfiouser.server.VfioUserServer},
 * then close the server and then the model (which stops the model's own threads, such as timers).
 */
public interface ModelledDevice extends DeviceModel, AutoCloseable {
    /** The catalog name, e.g. {@code test-device}. */
    String kind();

    /** One line describing how this instance was configured, e.g. {@code jvfio,test-device: 4 IRQ lines (level: 1,3), 64 KiB RAM}. */
    String describe();

    /**
     * The device's counters since it was created (device reset does not clear these), in a stable
     * order, named {@code group.counter} (e.g. {@code line0.raises}); what the CLI prints.
     */
    Map<String, Long> totals();

    /** Stops the model's threads; the model serves nothing afterwards. Idempotent, never throws. */
    @Override
    void close();
}
