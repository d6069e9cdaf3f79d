package io.jvfio.platform.devicetree;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The device tree jvfio gives its guests: a small fixed frame with the assigned devices on a platform
 * bus. In DTS, with the defaults:
 *
 * <pre>{@code
 * / {
 *     #address-cells = <2>;
 *     #size-cells = <2>;
 *     compatible = "jvfio,machine";
 *     model = "jvfio";
 *
 *     interrupt-controller@fec00000 {            // the IOAPIC, a placeholder: the guest finds it anyway
 *         compatible = "intel,ce4100-ioapic";
 *         reg = <0x0 0xfec00000 0x0 0x1000>;
 *         interrupt-controller;
 *         #interrupt-cells = <2>;                  // <pin sense>, sense as below
 *         #address-cells = <0>;
 *         phandle = <0x8000>;
 *     };
 *
 *     platform@d0000000 {                         // the platform-bus MMIO window, identity-mapped
 *         compatible = "simple-bus";
 *         #address-cells = <2>;
 *         #size-cells = <2>;
 *         ranges = <0x0 0xd0000000 0x0 0xd0000000 0x0 0x2000000>;
 *
 *         test-device@d0000000 {                  // one per assigned device, named after its first region
 *             compatible = "jvfio,test-device";
 *             reg = <0x0 0xd0000000 0x0 0x1000>;  // each region: address (2 cells), size (2 cells)
 *             interrupt-parent = <0x8000>;
 *             interrupts = <0x5 0x2>;             // each IRQ: IOAPIC pin (the GSI), sense
 *             ...                                 // extra properties: copied from the host or given
 *         };
 *     };
 * };
 * }</pre>
 *
 * The sense cell follows the {@code intel,ce4100-ioapic} binding (0 edge rising, 1 level low, 2 level
 * high, 3 edge falling); KVM's lines are active-high, so {@link Trigger#EDGE} is 0 and {@link Trigger#LEVEL}
 * is 2. Devices appear in the order they are added; each region must lie inside the bus window.
 */
public final class PlatformBusTree {
    public static final String MACHINE_COMPATIBLE = "jvfio,machine";
    public static final String DEFAULT_MODEL = "jvfio";
    /** The IOAPIC's MMIO base and size. */
    public static final long IOAPIC_BASE = 0xfec0_0000L;

    public static final long IOAPIC_SIZE = 0x1000L;
    public static final String IOAPIC_COMPATIBLE = "intel,ce4100-ioapic";
    /**
     * The interrupt controller's phandle, the {@code interrupt-parent} of every device: 0x8000, where QEMU
     * starts the phandles it allocates, clear of the ones dtc numbers from 1 in a user's {@code x-dt-node}.
     */
    public static final int INTC_PHANDLE = 0x8000;
    /** The default platform-bus window: 32 MiB at 0xd0000000. */
    public static final long DEFAULT_BUS_BASE = 0xd000_0000L;

    public static final long DEFAULT_BUS_SIZE = 0x0200_0000L;

    /** The address and size cells used at the root and on the bus. */
    private static final int ADDRESS_CELLS = 2;

    private static final int SIZE_CELLS = 2;

    /** An MMIO range where the machine placed one of the device's regions. */
    public record MmioRange(long base, long size) {
        public MmioRange {
            if (size <= 0) {
                throw new IllegalArgumentException("MMIO range at 0x" + Long.toHexString(base) + ": size 0x"
                        + Long.toHexString(size) + " is not positive");
            }
            if (base < 0 || base + size < base) {
                throw new IllegalArgumentException("MMIO range at 0x" + Long.toHexString(base) + " of size 0x"
                        + Long.toHexString(size) + " is outside the 63-bit address space");
            }
        }

        public long end() {
            return base + size;
        }
    }

    /** How an interrupt line signals: the IOAPIC's trigger mode, active high. */
    public enum Trigger {
        /** Edge rising: sense cell 0. */
        EDGE(0),
        /** Level high: sense cell 2. */
        LEVEL(2);

        private final int senseCell;

        Trigger(int senseCell) {
            this.senseCell = senseCell;
        }

        /** The second cell of the IRQ specifier. */
        public int senseCell() {
            return senseCell;
        }
    }

    /** One of the device's interrupt lines: the GSI (the IOAPIC pin) and how it triggers. */
    public record Interrupt(int gsi, Trigger trigger) {
        public Interrupt {
            if (gsi < 0) {
                throw new IllegalArgumentException("GSI " + gsi + " is negative");
            }
        }
    }

    private final String model;
    private final MmioRange bus;
    private final Node.Builder platformBus;

    private PlatformBusTree(String model, MmioRange bus) {
        this.model = model;
        this.bus = bus;
        this.platformBus = Node.builder("").childBuilder(busNodeName(bus));
        platformBus
                .property(Property.string("compatible", "simple-bus"))
                .property(Property.u32("#address-cells", ADDRESS_CELLS))
                .property(Property.u32("#size-cells", SIZE_CELLS))
                .property(Property.cells("ranges", concat(address(bus.base()), addressSize(bus.base(), bus.size()))));
    }

    /** A tree with the default model and bus window. */
    public static PlatformBusTree create() {
        return new PlatformBusTree(DEFAULT_MODEL, new MmioRange(DEFAULT_BUS_BASE, DEFAULT_BUS_SIZE));
    }

    /** A tree with this {@code model} string and the platform bus at {@code busWindow}. */
    public static PlatformBusTree create(String model, MmioRange busWindow) {
        return new PlatformBusTree(model, busWindow);
    }

    /** The platform bus node's path, for example {@code /platform@d0000000}. */
    public String busPath() {
        return platformBus.path();
    }

    /**
     * Adds a device node {@code name@<first region's base in hex>} (just {@code name} without regions)
     * with {@code compatible}, {@code reg}, {@code interrupt-parent} and {@code interrupts} from the
     * arguments, then {@code extraProperties} in order. An extra property that repeats one of those names,
     * an extra {@code interrupts-extended} (which would override the {@code interrupts} placed here), or a
     * second device of the same name and address, is refused naming the node and property.
     *
     * @return the new node's path
     */
    public String addDevice(
            String name,
            List<String> compatible,
            List<MmioRange> regions,
            List<Interrupt> interrupts,
            List<Property> extraProperties) {
        Node.Builder device = placedDevice(name, compatible, regions, interrupts, Optional.empty());
        for (Property extra : extraProperties) {
            if (extra.name().equals("interrupts-extended")) {
                throw new IllegalArgumentException("node " + device.path()
                        + ": property \"interrupts-extended\" would override the interrupts the platform bus places");
            }
        }
        device.properties(extraProperties);
        platformBus.child(device.build());
        return device.path();
    }

    /**
     * Adds a user's node for a device: {@code overlay} (the root node of an {@code x-dt-node} blob) with
     * its properties and subnodes, named as {@link #addDevice(String, List, List, List, List)} names it and
     * patched with {@code reg}, {@code interrupt-parent} and {@code interrupts} for where the device was
     * placed (replacing any it had, removing them where the device has none); any
     * {@code interrupts-extended} it had is removed. It keeps its own
     * {@code compatible}; {@code compatible} is used only if it has none.
     *
     * @return the new node's path
     */
    public String addDevice(
            String name, List<String> compatible, List<MmioRange> regions, List<Interrupt> interrupts, Node overlay) {
        Node.Builder device = placedDevice(name, compatible, regions, interrupts, Optional.of(overlay));
        platformBus.child(device.build());
        return device.path();
    }

    private Node.Builder placedDevice(
            String name,
            List<String> compatible,
            List<MmioRange> regions,
            List<Interrupt> interrupts,
            Optional<Node> overlay) {
        if (name.indexOf('@') >= 0) {
            throw new IllegalArgumentException("device node name \"" + name
                    + "\": give it without a unit address; the first region's base becomes the unit address");
        }
        String nodeName = regions.isEmpty()
                ? name
                : name + "@" + Long.toHexString(regions.getFirst().base());
        if (platformBus.hasChild(nodeName)) {
            throw new IllegalArgumentException(
                    "node " + platformBus.path() + ": duplicate child node \"" + nodeName + "\"");
        }
        Node.Builder device = platformBus.childBuilder(nodeName);
        for (MmioRange region : regions) {
            if (region.base() < bus.base() || region.end() > bus.end()) {
                throw new IllegalArgumentException("node " + device.path() + ": region [0x"
                        + Long.toHexString(region.base()) + ", 0x" + Long.toHexString(region.end())
                        + ") is outside the platform bus window [0x" + Long.toHexString(bus.base()) + ", 0x"
                        + Long.toHexString(bus.end()) + ")");
            }
        }
        overlay.ifPresent(node -> {
            node.properties().forEach(device::property);
            node.children().forEach(device::child);
        });
        if (!device.hasProperty("compatible")) {
            if (compatible.isEmpty()) {
                throw new IllegalArgumentException("node " + device.path() + ": needs at least one compatible string");
            }
            device.property(Property.strings("compatible", compatible));
        }
        if (regions.isEmpty()) {
            device.removeProperty("reg");
        } else {
            List<Integer> reg = new ArrayList<>();
            regions.forEach(region -> reg.addAll(addressSize(region.base(), region.size())));
            device.replaceProperty(Property.cells("reg", reg));
        }
        // The DT spec has interrupts-extended override interrupts: a user's would send the guest to stale IRQs.
        device.removeProperty("interrupts-extended");
        if (interrupts.isEmpty()) {
            device.removeProperty("interrupt-parent");
            device.removeProperty("interrupts");
        } else {
            List<Integer> cells = new ArrayList<>();
            interrupts.forEach(
                    irq -> cells.addAll(List.of(irq.gsi(), irq.trigger().senseCell())));
            device.replaceProperty(Property.u32("interrupt-parent", INTC_PHANDLE));
            device.replaceProperty(Property.cells("interrupts", cells));
        }
        return device;
    }

    /**
     * Adds a prepared device node (a user's overlay node, already patched) to the bus as it is; a node of
     * the same name is refused.
     *
     * @return the node's path
     */
    public String addDevice(Node device) {
        platformBus.child(device);
        return Node.childPath(platformBus.path(), device.name());
    }

    /** The tree as it stands: the frame and the devices added so far. */
    public DeviceTree build() {
        Node intc = Node.builder("interrupt-controller@" + Long.toHexString(IOAPIC_BASE))
                .property(Property.string("compatible", IOAPIC_COMPATIBLE))
                .property(Property.cells("reg", addressSize(IOAPIC_BASE, IOAPIC_SIZE)))
                .property(Property.empty("interrupt-controller"))
                .property(Property.u32("#interrupt-cells", 2))
                .property(Property.u32("#address-cells", 0))
                .phandle(INTC_PHANDLE)
                .build();
        Node root = Node.builder("")
                .property(Property.u32("#address-cells", ADDRESS_CELLS))
                .property(Property.u32("#size-cells", SIZE_CELLS))
                .property(Property.string("compatible", MACHINE_COMPATIBLE))
                .property(Property.string("model", model))
                .child(intc)
                .child(platformBus.build())
                .build();
        return DeviceTree.of(root);
    }

    private static String busNodeName(MmioRange bus) {
        return "platform@" + Long.toHexString(bus.base());
    }

    private static List<Integer> address(long address) {
        return List.of((int) (address >>> 32), (int) address);
    }

    private static List<Integer> addressSize(long address, long size) {
        return List.of((int) (address >>> 32), (int) address, (int) (size >>> 32), (int) size);
    }

    private static List<Integer> concat(List<Integer> a, List<Integer> b) {
        List<Integer> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
