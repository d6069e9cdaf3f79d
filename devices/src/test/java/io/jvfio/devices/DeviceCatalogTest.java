package io.jvfio.devices;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.devices.ns16550a.Ns16550a;
import io.jvfio.devices.testdevice.TestDevice;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DeviceCatalogTest {
    @Test
    void createsTheTestDeviceByNameWithItsOptions() {
        try (ModelledDevice device = DeviceCatalog.create(
                "test-device", DeviceOptions.defaults().withIrqs(3).withLevelMask(0b100))) {
            assertThat(device).isInstanceOf(TestDevice.class);
            assertThat(device.kind()).isEqualTo("test-device");
            assertThat(device.irqs()).hasSize(3);
            assertThat(((TestDevice) device).levelMask()).isEqualTo(0b100);
        }
    }

    @Test
    void defaultsToFourLinesWithTheOddOnesLevel() {
        try (TestDevice device = (TestDevice) DeviceCatalog.create("test-device", DeviceOptions.defaults())) {
            assertThat(device.lineCount()).isEqualTo(4);
            assertThat(device.levelMask()).isEqualTo(0b1010);
            assertThat(device.describe()).isEqualTo("jvfio,test-device: 4 IRQ lines (level: 1,3), 64 KiB RAM");
        }
    }

    @Test
    void unknownNameIsRefusedWithTheKnownNames() {
        assertThatThrownBy(() -> DeviceCatalog.create("edu", DeviceOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown device model 'edu' (known: test-device, ns16550a, virtio-rng, virtio-blk)");
    }

    @Test
    void createsTheNs16550aByNameWithOneLevelIrq() {
        try (ModelledDevice device = DeviceCatalog.create("ns16550a", DeviceOptions.defaults())) {
            assertThat(device).isInstanceOf(Ns16550a.class);
            assertThat(device.kind()).isEqualTo("ns16550a");
            assertThat(device.irqs()).containsExactly(ModelIrqSpec.level(0, 1));
            assertThat(device.describe()).endsWith("serial line unconnected");
        }
    }

    @Test
    void createsVirtioRngByNameSeededWhenASeedIsGiven() {
        try (ModelledDevice seeded = DeviceCatalog.create(
                        "virtio-rng", DeviceOptions.defaults().withSeed(42));
                ModelledDevice host = DeviceCatalog.create("virtio-rng", DeviceOptions.defaults())) {
            assertThat(seeded.kind()).isEqualTo("virtio-rng");
            assertThat(seeded.irqs()).containsExactly(ModelIrqSpec.level(0, 1));
            assertThat(seeded.describe())
                    .startsWith("virtio,mmio (virtio-rng, device ID 4)")
                    .endsWith("seeded test stream (seed 42), NOT random");
            assertThat(host.describe()).contains("entropy from the host");
        }
    }

    @Test
    void aSeedIsRefusedByModelsWithoutEntropy() {
        assertThatThrownBy(() -> DeviceCatalog.create(
                        "ns16550a", DeviceOptions.defaults().withSeed(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--seed");
        assertThatThrownBy(() -> DeviceCatalog.create(
                        "test-device", DeviceOptions.defaults().withSeed(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--seed");
        assertThatThrownBy(() -> DeviceCatalog.create(
                        "virtio-rng", DeviceOptions.defaults().withIrqs(2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--irqs");
    }

    @Test
    void optionsOfAnotherModelAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> DeviceCatalog.create(
                        "ns16550a", DeviceOptions.defaults().withIrqs(2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--irqs");
        assertThatThrownBy(() -> DeviceCatalog.create(
                        "test-device", DeviceOptions.defaults().withSerialSocket(Path.of("/tmp/serial.sock"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--serial-socket");
    }

    @Test
    void aSerialSocketThatCannotListenIsRefusedNamingTheOption() {
        assertThatThrownBy(() -> DeviceCatalog.create(
                        "ns16550a",
                        DeviceOptions.defaults().withSerialSocket(Path.of("/nonexistent-directory/serial.sock"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--serial-socket /nonexistent-directory/serial.sock: cannot listen");
    }

    @Test
    void tooManyIrqsAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> DeviceCatalog.create(
                        "test-device", DeviceOptions.defaults().withIrqs(9)))
                .hasMessageContaining("--irqs");
    }

    @Test
    void serveMainParsesItsArguments() {
        ServeMain.Arguments arguments =
                ServeMain.parse(new String[] {"--socket", "/tmp/x.sock", "--irqs", "2", "--level-mask", "0x2"});

        assertThat(arguments.socket()).hasToString("/tmp/x.sock");
        assertThat(arguments.options().irqs()).hasValue(2);
        assertThat(arguments.options().levelMask()).hasValue(2);
    }

    @Test
    void serveMainRefusesAMissingSocketAndUnknownArguments() {
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--irqs", "2"})).hasMessageContaining("--socket");
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--socket"}))
                .hasMessageContaining("--socket needs a value");
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--socket", "s", "--bogus"}))
                .hasMessageContaining("--bogus");
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--socket", "s", "--irqs", "x"}))
                .hasMessageContaining("--irqs 'x' is not a number");
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--socket", "s", "--irqs", "0xffffffff"}))
                .hasMessage("--irqs '0xffffffff' is outside the int range (-2147483648..2147483647)");
        // Read as the jvfio commands read them: a mask is 32 unsigned bits, never a negative decimal.
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--socket", "s", "--level-mask", "-1"}))
                .hasMessage("--level-mask '-1' is outside 32 unsigned bits (0..0xffffffff)");
        assertThat(ServeMain.parse(new String[] {"--socket", "s", "--level-mask", "0xffffffff"})
                        .options()
                        .levelMask())
                .hasValue(-1);
    }
}
