/** VFIO platform device assignment on jvfio's machine: devices from the kernel or from vfio-user. */
module io.jvfio.platform {
    requires transitive io.jvfio.machine;
    requires transitive io.jvfio.vfio;
    requires io.jvfio.vfio.kernel;
    requires io.jvfio.vfiouser;
    requires java.management;
    requires jdk.jfr;

    exports io.jvfio.platform;
    exports io.jvfio.platform.config;
    exports io.jvfio.platform.devicetree;
    exports io.jvfio.platform.irq;
}
