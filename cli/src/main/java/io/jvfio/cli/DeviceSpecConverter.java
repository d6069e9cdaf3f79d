package io.jvfio.cli;

import io.jvfio.platform.config.DeviceSpecException;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import picocli.CommandLine;

/** {@code --device vfio-platform,socket=PATH,...}: parsed when the command line is, so a bad one is a usage error. */
final class DeviceSpecConverter implements CommandLine.ITypeConverter<PlatformDeviceConfig> {
    @Override
    public PlatformDeviceConfig convert(String value) {
        try {
            return DeviceSpecParser.parse(value);
        } catch (DeviceSpecException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
