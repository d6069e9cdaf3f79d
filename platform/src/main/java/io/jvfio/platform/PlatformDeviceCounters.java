package io.jvfio.platform;

import io.jvfio.platform.irq.IrqController;
import io.jvfio.platform.observe.PlatformDeviceMXBean;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToLongFunction;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/** The JMX view of one assigned device's counters; registered while the device is assigned. */
final class PlatformDeviceCounters implements PlatformDeviceMXBean {
    private static final System.Logger LOG = System.getLogger(PlatformDeviceCounters.class.getName());

    private final VfioPlatformDevice device;
    private ObjectName registeredAs;

    PlatformDeviceCounters(VfioPlatformDevice device) {
        this.device = device;
    }

    /** Registers under {@code io.jvfio:type=VfioPlatformDevice,name=ID}; a clash is logged, not fatal. */
    void register() {
        try {
            ObjectName name =
                    new ObjectName("io.jvfio:type=VfioPlatformDevice,name=" + ObjectName.quote(device.name()));
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            server.registerMBean(this, name);
            registeredAs = name;
        } catch (JMException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "vfio " + device.name() + ": counters not published over JMX: " + e.getMessage());
        }
    }

    void unregister() {
        if (registeredAs != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(registeredAs);
            } catch (JMException e) {
                LOG.log(System.Logger.Level.DEBUG, "unregistering " + registeredAs + ": " + e.getMessage());
            }
            registeredAs = null;
        }
    }

    @Override
    public String getName() {
        return device.name();
    }

    @Override
    public String getCompatible() {
        return device.compatible();
    }

    @Override
    public String getGoneReason() {
        return device.gone().orElse("");
    }

    @Override
    public Map<String, Long> getTrappedAccesses() {
        Map<String, Long> accesses = new LinkedHashMap<>();
        for (VfioPlatformDevice.PlacedRegion region : device.regions()) {
            accesses.put("region" + region.info().index(), region.trappedReads() + region.trappedWrites());
        }
        return accesses;
    }

    @Override
    public Map<String, String> getIrqs() {
        Map<String, String> irqs = new LinkedHashMap<>();
        Optional<IrqController> controller = device.irqController();
        for (VfioPlatformDevice.WiredIrq irq : device.irqs()) {
            String description = irq.path() == IrqPath.IRQFD
                    ? "irqfd, GSI " + irq.gsi()
                    : "user-side, GSI " + irq.gsi() + ", "
                            + controller
                                    .map(c -> c.counters(irq.info().index()).toString())
                                    .orElse("");
            irqs.put("irq" + irq.info().index(), description);
        }
        return irqs;
    }

    private long sum(ToLongFunction<IrqController.IrqCounters> field) {
        return device.irqController()
                .map(c -> {
                    long total = 0;
                    for (int irq = 0; irq < c.irqCount(); irq++) {
                        total += field.applyAsLong(c.counters(irq));
                    }
                    return total;
                })
                .orElse(0L);
    }

    @Override
    public long getInjections() {
        return sum(IrqController.IrqCounters::injections);
    }

    @Override
    public long getEois() {
        return sum(IrqController.IrqCounters::eois);
    }

    @Override
    public long getCoalesced() {
        return sum(IrqController.IrqCounters::coalesced);
    }

    @Override
    public int getPendingPeak() {
        return device.irqController().map(c -> c.deviceCounters().pendingPeak()).orElse(0);
    }

    @Override
    public long getFastPathSwitchesOn() {
        return device.irqController().map(c -> c.deviceCounters().fastPathOn()).orElse(0L);
    }

    @Override
    public long getFastPathSwitchesOff() {
        return device.irqController().map(c -> c.deviceCounters().fastPathOff()).orElse(0L);
    }
}
