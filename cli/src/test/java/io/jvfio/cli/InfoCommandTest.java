package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfiouser.client.VfioUserDevice;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jvfio info}'s options, and its table for a vfio-user PCI device, served in this JVM as libvfio-user
 * describes one.
 */
class InfoCommandTest {
    @TempDir
    Path directory;

    /** PCI IRQ indexes as libvfio-user reports them: EVENTFD|MASKABLE for INTx, without AUTOMASKED. */
    private static final DeviceModel PCI_LIKE_LIBVFIO_USER = new DeviceModel() {
        @Override
        public int deviceFlags() {
            return DeviceInfo.FLAG_RESET | DeviceInfo.FLAG_PCI;
        }

        @Override
        public List<RegionSpec> regions() {
            return List.of(RegionSpec.shared(0, 0x1000));
        }

        @Override
        public List<ModelIrqSpec> irqs() {
            return List.of(
                    ModelIrqSpec.edge(0, 1),
                    ModelIrqSpec.edge(1, 1),
                    ModelIrqSpec.edge(2, 4),
                    ModelIrqSpec.edge(3, 1),
                    ModelIrqSpec.edge(4, 1));
        }
    };

    @Test
    void anEmptyPathIsAUsageErrorNamingTheOption() {
        for (String option : List.of("--socket", "--sysfsdev")) {
            CliRunner info = CliRunner.run("info", option, "");

            assertThat(info.exitCode()).as(option).isEqualTo(Jvfio.EXIT_USAGE);
            assertThat(info.errLines())
                    .as(option)
                    .singleElement()
                    .asString()
                    .startsWith("jvfio info: " + option + " wants a path, got ''");
        }
    }

    /** The server describes a region mmap'able whole by one area over all of it, as libvfio-user does. */
    @Test
    void aRegionMmapableWholeIsNotCalledSparse() throws Exception {
        Path socket = directory.resolve("pci.sock");
        try (VfioUserServer server = VfioUserServer.start(socket, PCI_LIKE_LIBVFIO_USER);
                VfioUserDevice device = VfioUserDevice.connect(socket)) {
            List<String> lines = InfoCommand.describe(device, "pci");

            assertThat(lines)
                    .contains(
                            "\tRegion 0: size 0x1000 (4 KiB), offset 0x0, flags READ|WRITE|MMAP|CAPS (0xf)",
                            "\t\tmmap: [0x0, 0x1000) 4 KiB");
        }
    }

    @Test
    void pciIrqsAreLabelledByTheirIndexSoIntxIsLevelWithoutAutomasked() throws Exception {
        Path socket = directory.resolve("pci.sock");
        try (VfioUserServer server = VfioUserServer.start(socket, PCI_LIKE_LIBVFIO_USER);
                VfioUserDevice device = VfioUserDevice.connect(socket)) {
            List<String> lines = InfoCommand.describe(device, "pci");

            assertThat(lines)
                    .contains(
                            "\tvfio-user: version 0.2, server capabilities max_msg_fds 16, max_data_xfer_size 1 MiB, "
                                    + "max_dma_maps 65535, pgsizes 0x1000; twin-socket mode",
                            "\tIRQ 0: count 1, flags EVENTFD|MASKABLE (0x3), INTx, level",
                            "\tIRQ 1: count 1, flags EVENTFD|MASKABLE (0x3), MSI, edge",
                            "\tIRQ 2: count 4, flags EVENTFD|MASKABLE (0x3), MSI-X, edge",
                            "\tIRQ 3: count 1, flags EVENTFD|MASKABLE (0x3), ERR notification",
                            "\tIRQ 4: count 1, flags EVENTFD|MASKABLE (0x3), REQ notification");
        }
    }
}
