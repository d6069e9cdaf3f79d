package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.ServerProcess;
import io.jvfio.sys.testing.Tiers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jvfio serve} in a child JVM, inspected with {@code jvfio info}: the table is the model's. */
@Tag(Tiers.PROCESS)
class ServeInfoProcessTest {
    @TempDir
    Path directory;

    @Test
    void infoTableShowsTheServedTestDevicesRegionsAndIrqs() throws Exception {
        try (ServerProcess served = ServeCommand.startChild(
                "test-device",
                directory.resolve("dev.sock"),
                Duration.ofSeconds(60),
                List.of(),
                "--irqs",
                "3",
                "--level-mask",
                "0x4")) {
            CliRunner info = CliRunner.run("info", "--socket", served.socket().toString());

            assertThat(info.exitCode()).as(info.err()).isZero();
            assertThat(info.outLines())
                    .containsExactly(
                            "vfio-user device at " + served.socket(),
                            "\tFlags: RESET|PLATFORM (0x5)",
                            "\tvfio-user: version 0.2, server capabilities max_msg_fds 16, max_data_xfer_size 1 MiB, "
                                    + "max_dma_maps 65535, pgsizes 0x1000; twin-socket mode",
                            "\tDevice tree: compatible \"jvfio,test-device\"",
                            "\t\tjvfio,irq-count = <0x3>",
                            "\t\tjvfio,level-mask = <0x4>",
                            "\t\tIRQ 0 precise EOI: status region 0 +0x10 mask 0x1, ack +0x14 mask 0x1",
                            "\t\tIRQ 1 precise EOI: status region 0 +0x10 mask 0x2, ack +0x14 mask 0x2",
                            "\t\tIRQ 2 precise EOI: status region 0 +0x10 mask 0x4, ack +0x14 mask 0x4",
                            "\tRegions: 2",
                            "\tRegion 0: size 0x1000 (4 KiB), offset 0x0, flags READ|WRITE (0x3)",
                            "\t\tmmap: none (every access traps)",
                            "\tRegion 1: size 0x10000 (64 KiB), offset 0x0, flags READ|WRITE|MMAP|CAPS (0xf)",
                            "\t\tmmap: [0x0, 0xf000) 60 KiB (sparse)",
                            "\tIRQs: 3",
                            "\tIRQ 0: count 1, flags EVENTFD|MASKABLE (0x3), edge",
                            "\tIRQ 1: count 1, flags EVENTFD|MASKABLE (0x3), edge",
                            "\tIRQ 2: count 1, flags EVENTFD|MASKABLE|AUTOMASKED (0x7), level");
        }
    }

    @Test
    void infoShowsTheServedVirtioRngsRegisterPageAsMappableForReadsOnly() throws Exception {
        try (ServerProcess served = ServeCommand.startChild(
                "virtio-rng", directory.resolve("rng.sock"), Duration.ofSeconds(60), List.of())) {
            CliRunner info = CliRunner.run("info", "--socket", served.socket().toString());

            assertThat(info.exitCode()).as(info.err()).isZero();
            assertThat(info.outLines())
                    .contains(
                            "\tDevice tree: compatible \"virtio,mmio\"",
                            "\t\tmmap: [0x0, 0x1000) 4 KiB (reads only: writes trap)");
        }
    }

    @Test
    void infoShowsTheServedNs16550aAsAnMmioUartWithOneLevelIrq() throws Exception {
        try (ServerProcess served = ServeCommand.startChild(
                "ns16550a",
                directory.resolve("uart.sock"),
                Duration.ofSeconds(60),
                List.of(),
                "--serial-socket",
                directory.resolve("serial.sock").toString())) {
            CliRunner info = CliRunner.run("info", "--socket", served.socket().toString());

            assertThat(info.exitCode()).as(info.err()).isZero();
            assertThat(info.outLines())
                    .contains(
                            "\tDevice tree: compatible \"ns16550a\"",
                            "\t\treg-shift = <0x0>",
                            "\t\treg-io-width = <0x1>",
                            "\tRegions: 1",
                            "\tRegion 0: size 0x1000 (4 KiB), offset 0x0, flags READ|WRITE (0x3)",
                            "\tIRQs: 1",
                            "\tIRQ 0: count 1, flags EVENTFD|MASKABLE|AUTOMASKED (0x7), level");
            assertThat(directory.resolve("serial.sock")).exists();
        }
    }

    @Test
    void serveLogsEachClientWithTheModelsCounters() throws Exception {
        try (ServerProcess served = ServeCommand.startChild(
                "test-device", directory.resolve("dev.sock"), Duration.ofSeconds(60), List.of())) {
            assertThat(CliRunner.run("info", "--socket", served.socket().toString())
                            .exitCode())
                    .isZero();
            assertThat(CliRunner.run("info", "--socket", served.socket().toString())
                            .exitCode())
                    .isZero();

            Map<String, Long> first = served.awaitClientLeft(1, Duration.ofSeconds(30));
            Map<String, Long> second = served.awaitClientLeft(2, Duration.ofSeconds(30));

            assertThat(first).containsEntry("line0.raises", 0L).containsKey("line3.acks");
            assertThat(second).containsEntry("device.resets", 0L);
        }
    }

    @Test
    void serveRefusesAnUnknownModelAsAUsageError() {
        CliRunner serve = CliRunner.run(
                "serve",
                "no-such-model",
                "--socket",
                directory.resolve("x.sock").toString());

        assertThat(serve.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(serve.errLines())
                .singleElement()
                .asString()
                .startsWith(
                        "jvfio serve: unknown device model 'no-such-model' (known: test-device, ns16550a, virtio-rng, virtio-blk)");
    }

    @Test
    void infoOnAMissingSocketFailsWithOneLine() {
        CliRunner info = CliRunner.run(
                "info", "--socket", directory.resolve("absent.sock").toString());

        assertThat(info.exitCode()).isEqualTo(Jvfio.EXIT_FAILURE);
        assertThat(info.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio info: vfio " + directory.resolve("absent.sock")
                        + ": cannot connect to the vfio-user server");
    }
}
