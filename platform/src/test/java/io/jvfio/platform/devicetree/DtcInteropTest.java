package io.jvfio.platform.devicetree;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.platform.devicetree.PlatformBusTree.Interrupt;
import io.jvfio.platform.devicetree.PlatformBusTree.MmioRange;
import io.jvfio.platform.devicetree.PlatformBusTree.Trigger;
import io.jvfio.sys.testing.Tiers;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** jvfio's DTBs as dtc reads them, and dtc's DTBs as jvfio reads them. */
@Tag(Tiers.PROCESS)
class DtcInteropTest {
    @BeforeEach
    void needDtc() {
        Dtc.assumeInstalled();
    }

    static DeviceTree twoTestDevicesAndOneWithExtras() {
        PlatformBusTree tree = PlatformBusTree.create();
        tree.addDevice(
                "test-device",
                List.of("jvfio,test-device"),
                List.of(new MmioRange(0xd000_0000L, 0x1000)),
                List.of(new Interrupt(5, Trigger.LEVEL)),
                List.of());
        tree.addDevice(
                "test-device",
                List.of("jvfio,test-device"),
                List.of(new MmioRange(0xd000_1000L, 0x1000), new MmioRange(0xd001_0000L, 0x10000)),
                List.of(new Interrupt(6, Trigger.EDGE), new Interrupt(7, Trigger.LEVEL)),
                List.of());
        tree.addDevice(
                "ethernet",
                List.of("calxeda,hb-xgmac", "snps,dwmac"),
                List.of(new MmioRange(0xd010_0000L, 0x1000)),
                List.of(new Interrupt(9, Trigger.LEVEL)),
                List.of(
                        Property.empty("dma-coherent"),
                        Property.bytes("local-mac-address", new byte[] {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}),
                        Property.u64("x-jvfio,cookie", 0x0123_4567_89ab_cdefL),
                        Property.strings("clock-names", "stmmaceth", "pclk")));
        return tree.build();
    }

    @Test
    void dtcDecompilesThePlatformTreeWithExactCellsAndNoWarnings() throws Exception {
        byte[] dtb = FdtWriter.write(twoTestDevicesAndOneWithExtras());

        Dtc.Result result = Dtc.dtbToDts(dtb);

        String dts = result.stdoutText();
        assertThat(result.stderr()).as("dtc warnings").isEmpty();
        assertThat(dts)
                .contains("/dts-v1/;")
                .contains("compatible = \"jvfio,machine\";")
                .contains("model = \"jvfio\";")
                .contains("interrupt-controller@fec00000 {")
                .contains("compatible = \"intel,ce4100-ioapic\";")
                .contains("interrupt-controller;")
                .contains("#interrupt-cells = <0x02>;")
                .contains("platform@d0000000 {")
                .contains("compatible = \"simple-bus\";")
                .contains("ranges = <0x00 0xd0000000 0x00 0xd0000000 0x00 0x2000000>;")
                .contains("test-device@d0000000 {")
                .contains("test-device@d0001000 {")
                .contains("ethernet@d0100000 {")
                .contains("compatible = \"jvfio,test-device\";")
                .contains("reg = <0x00 0xd0000000 0x00 0x1000>;")
                .contains("interrupts = <0x05 0x02>;")
                .contains("reg = <0x00 0xd0001000 0x00 0x1000 0x00 0xd0010000 0x00 0x10000>;")
                .contains("interrupts = <0x06 0x00 0x07 0x02>;")
                .contains("interrupt-parent = <0x8000>;")
                .contains("compatible = \"calxeda,hb-xgmac\\0snps,dwmac\";") // dtc 1.6 prints string lists so
                .contains("dma-coherent;")
                .contains("local-mac-address = [52 54 00 12 34 56];")
                .contains("x-jvfio,cookie = <0x1234567 0x89abcdef>;")
                .contains("clock-names = \"stmmaceth\\0pclk\";");
        assertThat(dts).contains("""
                		test-device@d0000000 {
                			compatible = "jvfio,test-device";
                			reg = <0x00 0xd0000000 0x00 0x1000>;
                			interrupt-parent = <0x8000>;
                			interrupts = <0x05 0x02>;
                		};
                """);
        assertThat(dts.indexOf("test-device@d0000000")).isLessThan(dts.indexOf("test-device@d0001000"));
    }

    @Test
    void dtcRecompilesJvfioDtbToTheSameBytes() throws Exception {
        byte[] dtb = FdtWriter.write(twoTestDevicesAndOneWithExtras());

        Dtc.Result again = Dtc.run(dtb, "-I", "dtb", "-O", "dtb", "-");

        assertThat(again.exitCode()).isZero();
        assertThat(again.stdout()).isEqualTo(dtb);
    }

    @Test
    void readerParsesWhatDtcCompiles() throws Exception {
        String dts = """
                /dts-v1/;
                /memreserve/ 0x1000 0x2000;
                / {
                    #address-cells = <2>;
                    #size-cells = <2>;
                    compatible = "jvfio,machine";
                    intc: interrupt-controller@fec00000 {
                        interrupt-controller;
                        #interrupt-cells = <2>;
                        #address-cells = <0>;
                        reg = <0 0xfec00000 0 0x1000>;
                    };
                    platform@d0000000 {
                        compatible = "simple-bus";
                        #address-cells = <2>;
                        #size-cells = <2>;
                        ranges = <0 0xd0000000 0 0xd0000000 0 0x2000000>;
                        test-device@d0000000 {
                            compatible = "jvfio,test-device", "simple-dev";
                            reg = <0 0xd0000000 0 0x1000>;
                            interrupt-parent = <&intc>;
                            interrupts = <5 2>;
                            mac = [de ad be ef 01];
                            big = /bits/ 64 <0x123456789>;
                            flag;
                        };
                    };
                };
                """;
        byte[] dtb = Dtc.dtsToDtb(dts).stdout();

        DeviceTree tree = FdtReader.read(dtb);

        Node intc = Node.builder("interrupt-controller@fec00000")
                .property(Property.empty("interrupt-controller"))
                .property(Property.u32("#interrupt-cells", 2))
                .property(Property.u32("#address-cells", 0))
                .property(Property.cells("reg", 0, 0xfec00000, 0, 0x1000))
                .phandle(1)
                .build();
        Node device = Node.builder("test-device@d0000000")
                .property(Property.strings("compatible", "jvfio,test-device", "simple-dev"))
                .property(Property.cells("reg", 0, 0xd0000000, 0, 0x1000))
                .property(Property.u32("interrupt-parent", 1))
                .property(Property.cells("interrupts", 5, 2))
                .property(Property.bytes("mac", new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef, 1}))
                .property(Property.u64("big", 0x1_2345_6789L))
                .property(Property.empty("flag"))
                .build();
        Node platform = Node.builder("platform@d0000000")
                .property(Property.string("compatible", "simple-bus"))
                .property(Property.u32("#address-cells", 2))
                .property(Property.u32("#size-cells", 2))
                .property(Property.cells("ranges", 0, 0xd0000000, 0, 0xd0000000, 0, 0x2000000))
                .child(device)
                .build();
        Node root = Node.builder("")
                .property(Property.u32("#address-cells", 2))
                .property(Property.u32("#size-cells", 2))
                .property(Property.string("compatible", "jvfio,machine"))
                .child(intc)
                .child(platform)
                .build();
        assertThat(tree).isEqualTo(new DeviceTree(root, List.of(new MemoryReservation(0x1000, 0x2000)), 0));
        assertThat(tree.nodeByPhandle(1)).contains(intc);
        assertThat(FdtWriter.write(tree)).isEqualTo(dtb);
    }

    @Test
    void readerParsesDtcVersion16AndPaddedBlobs() throws Exception {
        String dts = """
                /dts-v1/;
                / {
                    compatible = "jvfio,machine";
                    dev@1 { reg = <1>; names = "a", "b"; };
                };
                """;
        byte[] v17 = Dtc.dtsToDtb(dts).stdout();
        byte[] v16 = Dtc.run(dts.getBytes(StandardCharsets.UTF_8), "-I", "dts", "-O", "dtb", "-V", "16", "-")
                .stdout();
        byte[] padded = Dtc.run(dts.getBytes(StandardCharsets.UTF_8), "-I", "dts", "-O", "dtb", "-p", "100", "-")
                .stdout();

        DeviceTree expected = FdtReader.read(v17);

        assertThat(ByteBuffer.wrap(v16).getInt(Fdt.OFF_VERSION)).isEqualTo(16);
        assertThat(FdtReader.read(v16)).isEqualTo(expected);
        assertThat(padded.length).isGreaterThan(v17.length + 99);
        assertThat(FdtReader.read(padded)).isEqualTo(expected);
        assertThat(expected.node("/dev@1")
                        .orElseThrow()
                        .property("names")
                        .orElseThrow()
                        .asStrings())
                .containsExactly("a", "b");
    }
}
