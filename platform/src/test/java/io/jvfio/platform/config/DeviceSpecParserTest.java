package io.jvfio.platform.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.vfio.IommufdMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DeviceSpecParserTest {
    @Test
    void socketDeviceGetsQemuDefaults() {
        PlatformDeviceConfig config = DeviceSpecParser.parse("vfio-platform,socket=/tmp/dev.sock,compat=jvfio,,test");
        assertThat(config.type()).isEqualTo(DeviceType.VFIO_PLATFORM);
        assertThat(config.source()).isEqualTo(new DeviceSource.Socket(Path.of("/tmp/dev.sock")));
        assertThat(config.noMmap()).isFalse();
        assertThat(config.mmapTimeout()).isEqualTo(Duration.ofMillis(1100));
        assertThat(config.irqfd()).isTrue();
        assertThat(config.compat()).contains("jvfio,test");
        assertThat(config.id()).isEqualTo("dev.sock");
        assertThat(config.idGiven()).isFalse();
        assertThat(config.iommufd()).isEqualTo(IommufdMode.AUTO);
        assertThat(config.replyPollMax()).isEqualTo(Duration.ofNanos(200_000));
    }

    @Test
    void replyPollingIsSetInMicrosecondsOrTurnedOff() {
        assertThat(DeviceSpecParser.parse("vfio-platform,socket=/s,x-reply-poll-max-us=50")
                        .replyPollMax())
                .isEqualTo(Duration.ofNanos(50_000));
        assertThat(DeviceSpecParser.parse("vfio-platform,socket=/s,x-reply-poll-max-us=0")
                        .replyPollMax())
                .isZero();
    }

    @Test
    void everyPropertyIsRead() {
        PlatformDeviceConfig config = DeviceSpecParser.parse(
                "vfio-platform,host=fff51000.ethernet,x-no-mmap=on,mmap-timeout-ms=20,x-irqfd=false,iommufd=off,"
                        + "id=eth0,x-precise-eoi=no,x-reply-timeout-ms=250,x-dt-node=/etc/eth0.dtb,x-acpi-hid=PNP0501");
        assertThat(config.source()).isEqualTo(new DeviceSource.Host("fff51000.ethernet"));
        assertThat(config.noMmap()).isTrue();
        assertThat(config.mmapTimeout()).isEqualTo(Duration.ofMillis(20));
        assertThat(config.irqfd()).isFalse();
        assertThat(config.iommufd()).isEqualTo(IommufdMode.OFF);
        assertThat(config.id()).isEqualTo("eth0");
        assertThat(config.idGiven()).isTrue();
        assertThat(config.preciseEoi()).isFalse();
        assertThat(config.replyTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.compat()).isEqualTo(Optional.empty());
        assertThat(config.dtNode()).contains(Path.of("/etc/eth0.dtb"));
        assertThat(config.acpiHid()).contains("PNP0501");
    }

    @Test
    void booleansTakeQemusYAndNToo() {
        PlatformDeviceConfig config = DeviceSpecParser.parse("vfio-platform,host=a,x-no-mmap=y,x-irqfd=n");

        assertThat(config.noMmap()).isTrue();
        assertThat(config.irqfd()).isFalse();
    }

    @Test
    void subtypesFixCompat() {
        assertThat(DeviceSpecParser.parse("vfio-calxeda-xgmac,host=a").compat()).contains("calxeda,hb-xgmac");
        assertThat(DeviceSpecParser.parse("vfio-amd-xgbe,sysfsdev=/sys/bus/platform/devices/b")
                        .compat())
                .contains("amd,xgbe-seattle-v1a");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "''|empty device string (expected TYPE,prop=value,...)",
                "vfio-pci,host=a|unknown device type 'vfio-pci' (known: vfio-platform, vfio-calxeda-xgmac, vfio-amd-xgbe)",
                "vfio-platform,host=a,bogus=1|vfio-platform: unknown property 'bogus'",
                "vfio-platform,host=a,x-irqfd|vfio-platform: 'x-irqfd' is not prop=value",
                "vfio-platform,host=a,host=b|vfio-platform: property 'host' given twice",
                "vfio-platform|vfio-platform: give exactly one of 'host', 'sysfsdev' or 'socket'",
                "vfio-platform,host=a,socket=/s|vfio-platform: give exactly one of 'host', 'sysfsdev' or 'socket' (got 2)",
                "vfio-platform,host=a/b|vfio-platform: property 'host' wants a device name without '/', got 'a/b'",
                "vfio-platform,host=..|vfio-platform: property 'host' wants a device name without '/', got '..'",
                "vfio-platform,host=a,x-no-mmap=maybe|vfio-platform: property 'x-no-mmap' wants on/off (or true/false, yes/no, y/n), got 'maybe'",
                "vfio-platform,host=a,mmap-timeout-ms=0|vfio-platform: property 'mmap-timeout-ms' wants a positive number of milliseconds (at most 4294967295), got '0'",
                "vfio-platform,host=a,mmap-timeout-ms=1e3|vfio-platform: property 'mmap-timeout-ms' wants a positive number of milliseconds (at most 4294967295), got '1e3'",
                "vfio-platform,host=a,mmap-timeout-ms=4294967296|vfio-platform: property 'mmap-timeout-ms' wants a positive number of milliseconds (at most 4294967295), got '4294967296'",
                "vfio-platform,host=a,iommufd=maybe|vfio-platform: property 'iommufd' wants on, off or auto, got 'maybe'",
                "vfio-platform,socket=/s,iommufd=on|vfio-platform: property 'iommufd' applies to kernel devices, not 'socket'",
                "vfio-amd-xgbe,host=a,compat=x|vfio-amd-xgbe: property 'compat' is fixed to 'amd,xgbe-seattle-v1a' by this type",
                "vfio-platform,host=a,compat=|vfio-platform: property 'compat' wants a printable compatible string, got ''",
                "vfio-platform,socket=|vfio-platform: property 'socket' wants a path, got ''",
                "vfio-platform,sysfsdev=/|vfio-platform: property 'sysfsdev' wants a path that ends in a name, got '/'",
                "vfio-platform,socket=//,id=s|vfio-platform: property 'socket' wants a path that ends in a name, got '//'",
                "vfio-platform,host=a,id=|vfio-platform: property 'id' is empty",
                "vfio-platform,host=a,x-dt-node=|vfio-platform: property 'x-dt-node' wants a path, got ''",
                "vfio-platform,socket=/s,x-reply-poll-max-us=-1|vfio-platform: property 'x-reply-poll-max-us' wants microseconds from 0 (off) to 1000000, got '-1'",
                "vfio-platform,socket=/s,x-reply-poll-max-us=1000001|vfio-platform: property 'x-reply-poll-max-us' wants microseconds from 0 (off) to 1000000, got '1000001'",
                "vfio-platform,socket=/s,x-reply-timeout-ms=1,x-reply-poll-max-us=1000|vfio-platform: property 'x-reply-poll-max-us' (1000 us) must be shorter than the reply timeout (1 ms)",
                "vfio-platform,host=a,x-reply-poll-max-us=10|vfio-platform: property 'x-reply-poll-max-us' applies to 'socket' (vfio-user) devices, not kernel ones",
                "vfio-platform,host=a,x-acpi-hid=pnp0501|vfio-platform: property 'x-acpi-hid' wants a PNP ID (e.g. PNP0501) or an ACPI ID (e.g. LNRO0005), got 'pnp0501'",
            })
    void malformedSpecsNameWhatIsWrong(String spec, String message) {
        assertThatThrownBy(() -> DeviceSpecParser.parse(spec))
                .isInstanceOf(DeviceSpecException.class)
                .hasMessage(message);
    }
}
