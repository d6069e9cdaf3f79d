/** Device models served over vfio-user, and the child JVM that serves one. */
module io.jvfio.devices {
    requires transitive io.jvfio.vfiouser;
    requires io.jvfio.chips;

    exports io.jvfio.devices;
    exports io.jvfio.devices.testdevice;
    exports io.jvfio.devices.ns16550a;
    exports io.jvfio.devices.virtio;
}
