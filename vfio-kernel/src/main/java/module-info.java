/** The kernel's VFIO: groups and containers, iommufd, sysfs discovery, binding to vfio-platform. */
// Qualified exports name modules built after this one: javac cannot see them yet.
@SuppressWarnings("module")
module io.jvfio.vfio.kernel {
    requires transitive io.jvfio.vfio;

    exports io.jvfio.vfio.kernel to
            io.jvfio.platform,
            io.jvfio.cli;
}
