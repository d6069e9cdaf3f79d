package io.jvfio.platform.config;

/** How a kernel device is attached: the iommufd cdev, the legacy group/container, or whichever exists. */
public enum IommufdMode {
    ON, OFF, AUTO
}
