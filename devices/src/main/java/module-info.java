/** Device models served over vfio-user, and the child JVM that serves one. */
module io.jvfio.devices {
    requires transitive io.jvfio.vfiouser;

    exports io.jvfio.devices;
    exports io.jvfio.devices.testdevice;
}
