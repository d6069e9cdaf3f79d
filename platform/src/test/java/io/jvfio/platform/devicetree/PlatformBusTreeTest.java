package io.jvfio.platform.devicetree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.platform.devicetree.PlatformBusTree.Interrupt;
import io.jvfio.platform.devicetree.PlatformBusTree.MmioRange;
import io.jvfio.platform.devicetree.PlatformBusTree.Trigger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The guest tree's frame and the device nodes on its platform bus. */
class PlatformBusTreeTest {
    @Test
    void frameHasRootIntcAndBus() {
        DeviceTree tree = PlatformBusTree.create().build();

        Node root = tree.root();
        assertThat(root.property("#address-cells")).contains(Property.u32("#address-cells", 2));
        assertThat(root.property("#size-cells")).contains(Property.u32("#size-cells", 2));
        assertThat(root.property("compatible").orElseThrow().asString()).isEqualTo("jvfio,machine");
        assertThat(root.property("model").orElseThrow().asString()).isEqualTo("jvfio");
        Node intc = tree.nodeByPhandle(PlatformBusTree.INTC_PHANDLE).orElseThrow();
        assertThat(intc.name()).isEqualTo("interrupt-controller@fec00000");
        assertThat(intc.property("interrupt-controller")).contains(Property.empty("interrupt-controller"));
        assertThat(intc.property("#interrupt-cells").orElseThrow().asU32()).isEqualTo(2);
        assertThat(intc.property("reg").orElseThrow().asCells()).containsExactly(0, 0xfec00000, 0, 0x1000);
        Node bus = tree.node("/platform@d0000000").orElseThrow();
        assertThat(bus.property("compatible").orElseThrow().asString()).isEqualTo("simple-bus");
        assertThat(bus.property("ranges").orElseThrow().asCells())
                .containsExactly(0, 0xd0000000, 0, 0xd0000000, 0, 0x2000000);
        assertThat(bus.children()).isEmpty();
    }

    @Test
    void deviceNodeHasRegInTwoPlusTwoCellsAndInterruptsAsPinAndSense() {
        PlatformBusTree tree = PlatformBusTree.create();

        String path = tree.addDevice(
                "test-device",
                List.of("jvfio,test-device"),
                List.of(new MmioRange(0xd000_0000L, 0x1000), new MmioRange(0xd100_0000L, 0x20000)),
                List.of(new Interrupt(5, Trigger.LEVEL), new Interrupt(23, Trigger.EDGE)),
                List.of(Property.empty("dma-coherent")));

        assertThat(path).isEqualTo("/platform@d0000000/test-device@d0000000");
        Node device = tree.build().node(path).orElseThrow();
        assertThat(device.properties())
                .containsExactly(
                        Property.string("compatible", "jvfio,test-device"),
                        Property.cells("reg", 0, 0xd0000000, 0, 0x1000, 0, 0xd1000000, 0, 0x20000),
                        Property.u32("interrupt-parent", PlatformBusTree.INTC_PHANDLE),
                        Property.cells("interrupts", 5, 2, 23, 0),
                        Property.empty("dma-coherent"));
    }

    @Test
    void aUsersNodeKeepsItsPropertiesAndSubnodesAndGetsRegAndInterruptsForWhereTheDeviceIs() {
        Node overlay = Node.builder("")
                .property(Property.string("compatible", "vendor,board-thing"))
                .property(Property.cells("reg", 0, 0x1234, 0, 0x10))
                .property(Property.u32("clock-frequency", 100_000_000))
                .property(Property.cells("interrupts", 99, 4))
                .child(Node.builder("port")
                        .property(Property.empty("vendor,internal"))
                        .build())
                .build();
        PlatformBusTree tree = PlatformBusTree.create();

        String path = tree.addDevice(
                "thing",
                List.of("jvfio,test-device"),
                List.of(new MmioRange(0xd000_0000L, 0x1000)),
                List.of(new Interrupt(16, Trigger.LEVEL)),
                overlay);

        Node device = tree.build().node(path).orElseThrow();
        assertThat(path).isEqualTo("/platform@d0000000/thing@d0000000");
        assertThat(device.properties())
                .containsExactly(
                        Property.string("compatible", "vendor,board-thing"),
                        Property.cells("reg", 0, 0xd0000000, 0, 0x1000),
                        Property.u32("clock-frequency", 100_000_000),
                        Property.cells("interrupts", 16, 2),
                        Property.u32("interrupt-parent", PlatformBusTree.INTC_PHANDLE));
        assertThat(device.child("port")).isPresent();
    }

    @Test
    void aUsersNodeLosesItsInterruptsExtendedWhichWouldOverrideTheInterruptsForWhereTheDeviceIs() {
        Node overlay = Node.builder("")
                .property(Property.string("compatible", "vendor,board-thing"))
                .property(Property.cells("interrupts-extended", 1, 99, 4))
                .build();
        PlatformBusTree tree = PlatformBusTree.create();

        String withIrq = tree.addDevice(
                "thing",
                List.of("jvfio,test-device"),
                List.of(new MmioRange(0xd000_0000L, 0x1000)),
                List.of(new Interrupt(16, Trigger.LEVEL)),
                overlay);
        String withoutIrq = tree.addDevice("fw", List.of("jvfio,fw"), List.of(), List.of(), overlay);

        DeviceTree built = tree.build();
        assertThat(built.node(withIrq).orElseThrow().properties())
                .containsExactly(
                        Property.string("compatible", "vendor,board-thing"),
                        Property.cells("reg", 0, 0xd0000000, 0, 0x1000),
                        Property.u32("interrupt-parent", PlatformBusTree.INTC_PHANDLE),
                        Property.cells("interrupts", 16, 2));
        assertThat(built.node(withoutIrq).orElseThrow().properties())
                .containsExactly(Property.string("compatible", "vendor,board-thing"));
    }

    @Test
    void aUsersNodeKeepsThePhandlesDtcNumberedFromOne() {
        Node overlay = Node.builder("")
                .property(Property.string("compatible", "vendor,board-thing"))
                .property(Property.u32("clocks", 1))
                .child(Node.builder("clock").phandle(1).build())
                .build();
        PlatformBusTree tree = PlatformBusTree.create();
        String path = tree.addDevice(
                "thing",
                List.of("jvfio,test-device"),
                List.of(new MmioRange(0xd000_0000L, 0x1000)),
                List.of(new Interrupt(16, Trigger.LEVEL)),
                overlay);

        DeviceTree built = tree.build();

        assertThat(built.nodeByPhandle(1).orElseThrow().name()).isEqualTo("clock");
        assertThat(built.nodeByPhandle(PlatformBusTree.INTC_PHANDLE)
                        .orElseThrow()
                        .name())
                .isEqualTo("interrupt-controller@fec00000");
        assertThat(built.node(path).orElseThrow().property("interrupt-parent"))
                .contains(Property.u32("interrupt-parent", PlatformBusTree.INTC_PHANDLE));
    }

    @Test
    void aUsersNodeWithoutCompatibleGetsTheDevicesAndLosesRegAndInterruptsTheDeviceHasNot() {
        Node overlay = Node.builder("")
                .property(Property.cells("reg", 0, 0x1234, 0, 0x10))
                .property(Property.u32("interrupt-parent", 7))
                .property(Property.cells("interrupts", 99, 4))
                .property(Property.string("label", "fw"))
                .build();
        PlatformBusTree tree = PlatformBusTree.create();

        String path = tree.addDevice("fw", List.of("jvfio,fw"), List.of(), List.of(), overlay);

        assertThat(tree.build().node(path).orElseThrow().properties())
                .containsExactly(Property.string("label", "fw"), Property.string("compatible", "jvfio,fw"));
    }

    @Test
    void deviceWithoutRegionsOrInterruptsHasNoUnitAddressRegOrInterrupts() {
        PlatformBusTree tree = PlatformBusTree.create();

        String path = tree.addDevice("fw", List.of("jvfio,fw"), List.of(), List.of(), List.of());

        assertThat(tree.build().node(path).orElseThrow().properties())
                .containsExactly(Property.string("compatible", "jvfio,fw"));
    }

    @Test
    void customModelAndWindowAreUsed() {
        PlatformBusTree tree = PlatformBusTree.create("rig", new MmioRange(0x1_0000_0000L, 0x10_0000));

        DeviceTree built = tree.build();

        assertThat(tree.busPath()).isEqualTo("/platform@100000000");
        assertThat(built.root().property("model").orElseThrow().asString()).isEqualTo("rig");
        assertThat(built.node("/platform@100000000")
                        .orElseThrow()
                        .property("ranges")
                        .orElseThrow()
                        .asCells())
                .containsExactly(1, 0, 1, 0, 0, 0x100000);
    }

    @Test
    void secondDeviceAtTheSameAddressIsRefused() {
        PlatformBusTree tree = PlatformBusTree.create();
        tree.addDevice("d", List.of("x,y"), List.of(new MmioRange(0xd000_0000L, 0x1000)), List.of(), List.of());

        assertThatThrownBy(() -> tree.addDevice(
                        "d", List.of("x,y"), List.of(new MmioRange(0xd000_0000L, 0x1000)), List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("node /platform@d0000000: duplicate child node \"d@d0000000\"");
    }

    @Test
    void extraPropertyRepeatingAGeneratedOneIsRefusedNamingIt() {
        PlatformBusTree tree = PlatformBusTree.create();

        assertThatThrownBy(() -> tree.addDevice(
                        "d",
                        List.of("x,y"),
                        List.of(new MmioRange(0xd000_0000L, 0x1000)),
                        List.of(new Interrupt(1, Trigger.EDGE)),
                        List.of(Property.u32("interrupts", 1))))
                .hasMessage("node /platform@d0000000/d@d0000000: duplicate property \"interrupts\"");
        assertThat(tree.build().node("/platform@d0000000").orElseThrow().children())
                .isEmpty();
    }

    @Test
    void extraInterruptsExtendedIsRefusedNamingIt() {
        PlatformBusTree tree = PlatformBusTree.create();

        assertThatThrownBy(() -> tree.addDevice(
                        "d",
                        List.of("x,y"),
                        List.of(new MmioRange(0xd000_0000L, 0x1000)),
                        List.of(new Interrupt(1, Trigger.EDGE)),
                        List.of(Property.cells("interrupts-extended", List.of(1, 99, 4)))))
                .hasMessage("node /platform@d0000000/d@d0000000: property \"interrupts-extended\" would override the"
                        + " interrupts the platform bus places");
        assertThat(tree.build().node("/platform@d0000000").orElseThrow().children())
                .isEmpty();
    }

    @Test
    void regionOutsideTheBusWindowIsRefused() {
        PlatformBusTree tree = PlatformBusTree.create();

        assertThatThrownBy(() -> tree.addDevice(
                        "d", List.of("x,y"), List.of(new MmioRange(0xd1ff_f000L, 0x2000)), List.of(), List.of()))
                .hasMessage("node /platform@d0000000/d@d1fff000: region [0xd1fff000, 0xd2001000) is outside "
                        + "the platform bus window [0xd0000000, 0xd2000000)");
    }

    @Test
    void badDeviceArgumentsAreRefused() {
        PlatformBusTree tree = PlatformBusTree.create();

        assertThatThrownBy(() -> tree.addDevice("d@1", List.of("x"), List.of(), List.of(), List.of()))
                .hasMessageContaining("give it without a unit address");
        assertThatThrownBy(() -> tree.addDevice("d", List.of(), List.of(), List.of(), List.of()))
                .hasMessage("node /platform@d0000000/d: needs at least one compatible string");
        assertThatThrownBy(() -> new MmioRange(0xd000_0000L, 0)).hasMessageContaining("is not positive");
        assertThatThrownBy(() -> new Interrupt(-1, Trigger.EDGE)).hasMessage("GSI -1 is negative");
    }

    @Test
    void preparedOverlayNodeIsAddedAsItIs() {
        PlatformBusTree tree = PlatformBusTree.create();
        Node overlay = Node.builder("ethernet@d0000000")
                .property(Property.string("compatible", "calxeda,hb-xgmac"))
                .property(Property.cells("reg", 0, 0xd0000000, 0, 0x1000))
                .build();

        String path = tree.addDevice(overlay);

        assertThat(tree.build().node(path)).contains(overlay);
    }
}
