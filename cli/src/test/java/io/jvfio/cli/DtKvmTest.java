package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.testdevice.TestDevice;
import io.jvfio.platform.devicetree.DeviceTree;
import io.jvfio.platform.devicetree.FdtReader;
import io.jvfio.platform.devicetree.Node;
import io.jvfio.sys.testing.Tiers;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jvfio dt}: the guest's device tree for served devices, as DTS on stdout and a DTB file. */
@Tag(Tiers.KVM)
class DtKvmTest {
    @TempDir
    Path directory;

    @Test
    void twoServedDevicesGetANodeEachInTheDtsAndTheDtb() throws Exception {
        Tiers.assumeKvm();
        Path first = directory.resolve("a.sock");
        Path second = directory.resolve("b.sock");
        Path dtb = directory.resolve("guest.dtb");
        try (VfioUserServer a = VfioUserServer.start(first, TestDevice.create(2, 0b10));
                VfioUserServer b = VfioUserServer.start(second, TestDevice.create(1, 0))) {
            CliRunner dt = CliRunner.run(
                    "dt",
                    "--device",
                    "vfio-platform,socket=" + first + ",id=dev-a",
                    "--device",
                    "vfio-platform,socket=" + second + ",id=dev-b",
                    "-o",
                    dtb.toString());

            assertThat(dt.exitCode()).as(dt.out() + dt.err()).isZero();
            assertThat(dt.out())
                    .contains(
                            "dev-a@d0000000 {",
                            "dev-b@",
                            "compatible = \"jvfio,test-device\";",
                            "interrupt-controller@fec00000 {");
            DeviceTree tree = FdtReader.read(Files.readAllBytes(dtb));
            Node bus = tree.node("/platform@d0000000").orElseThrow();
            assertThat(bus.children()).extracting(Node::baseName).containsExactly("dev-a", "dev-b");
            int[] interrupts = bus.children()
                    .getFirst()
                    .property("interrupts")
                    .orElseThrow()
                    .asCells();
            assertThat(interrupts).as("two lines: <pin sense> each").hasSize(4);
            assertThat(interrupts[1]).as("line 0 is edge").isZero();
            assertThat(interrupts[3]).as("line 1 is level, active high").isEqualTo(2);
        }
    }

    @Test
    void deviceWithoutIdIsNamedAfterItsCompatibleAndTheDtsComesOnce() throws Exception {
        Tiers.assumeKvm();
        Path socket = directory.resolve("td.sock");
        try (VfioUserServer server = VfioUserServer.start(socket, TestDevice.create(1, 0))) {
            CliRunner dt = CliRunner.run("dt", "--device", "vfio-platform,socket=" + socket);

            assertThat(dt.exitCode()).as(dt.out() + dt.err()).isZero();
            assertThat(dt.out()).contains("test-device@d0000000 {").doesNotContain("td.sock");
            assertThat(dt.outLines())
                    .filteredOn(line -> line.equals("/dts-v1/;"))
                    .hasSize(1);
        }
    }
}
