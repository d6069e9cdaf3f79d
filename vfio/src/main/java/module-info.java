/** The device API every VFIO backend implements: the kernel's (vfio-kernel) and vfio-user's. */
module io.jvfio.vfio {
    requires transitive io.jvfio.sys;

    exports io.jvfio.vfio;
}
