/** The benchmarks behind bench/run. */
module io.jvfio.bench {
    requires io.jvfio.platform;
    requires io.jvfio.devices;
    requires io.jvfio.kvm;
    requires io.jvfio.vfiouser;
    requires java.management;
    requires jdk.management;
}
