package io.jvfio.devices;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.jvfio.devices.testdevice.TestDevice;

class DeviceCatalogTest {
    @Test
    void createsTheTestDeviceByNameWithItsOptions() {
        try (ModelledDevice device = DeviceCatalog.create("test-device", DeviceOptions.defaults().withIrqs(3)
                .withLevelMask(0b100))) {
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
                .hasMessage("unknown device model 'edu' (known: test-device)");
    }

    @Test
    void tooManyIrqsAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> DeviceCatalog.create("test-device", DeviceOptions.defaults().withIrqs(9)))
                .hasMessageContaining("--irqs");
    }

    @Test
    void serveMainParsesItsArguments() {
        ServeMain.Arguments arguments = ServeMain.parse(new String[] {"--socket", "/tmp/x.sock", "--irqs", "2",
            "--level-mask", "0x2"});

        assertThat(arguments.socket()).hasToString("/tmp/x.sock");
        assertThat(arguments.options().irqs()).isEqualTo(2);
        assertThat(arguments.options().levelMask()).hasValue(2);
    }

    @Test
    void serveMainRefusesAMissingSocketAndUnknownArguments() {
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--irqs", "2"})).hasMessageContaining("--socket");
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--socket"})).hasMessageContaining("--socket needs a value");
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--socket", "s", "--bogus"})).hasMessageContaining("--bogus");
        assertThatThrownBy(() -> ServeMain.parse(new String[] {"--socket", "s", "--irqs", "x"}))
                .hasMessageContaining("--irqs 'x' is not a number");
    }
}
