package io.jvfio.machine.acpi;

import static io.jvfio.machine.acpi.AmlTermTest.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** _DSD device properties (ACPI 6.5 section 6.2.5 and the Device Properties UUID document). */
class AmlDevicePropertiesTest {
    @Test
    void compatibleBecomesADsdWithTheDevicePropertiesUuid() {
        Aml.Name dsd = DeviceProperties.compatible("a,b").toDsd();
        // Outer package: 1 (count) + 20 (UUID buffer) + 23 (property list) + 1 (PkgLength) = 0x2D.
        assertThat(dsd.encode())
                .containsExactly(hex("085F445344" + "122D02"
                        + "11130A10" + "14D8FFDABA6E8C4D8A91BC9BBF4AA301"
                        + "121601" + "121302" + "0D636F6D70617469626C6500" + "0D612C6200"));
    }

    @Test
    void bufferPropertyIsRefused() {
        assertThatThrownBy(() -> new DeviceProperties.Property("blob", new Aml.Buffer(new byte[1])))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("_DSD property \"blob\" holds a buffer, which the Device Properties UUID does not allow");
    }

    @Test
    void bufferInsideAPackagePropertyIsRefused() {
        Aml.Package nested = new Aml.Package(new Aml.IntegerConst(1), new Aml.Buffer(new byte[1]));
        assertThatThrownBy(() -> new DeviceProperties.Property("list", nested))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("_DSD property \"list\" holds a buffer, which the Device Properties UUID does not allow");
    }

    @Test
    void emptyPropertiesAreRefused() {
        assertThatThrownBy(() -> new DeviceProperties(List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a _DSD needs at least one property");
    }
}
