/** The kernel's VFIO: groups and containers, iommufd, sysfs discovery, binding to vfio-platform. */
module io.jvfio.vfio.kernel {
    requires transitive io.jvfio.vfio;

    exports io.jvfio.vfio.kernel to io.jvfio.platform, io.jvfio.cli;
}
