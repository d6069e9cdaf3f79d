/**
 * The native layer, the only module that touches {@code java.lang.foreign} (the JVM lets no other module
 * link native code: the launcher passes {@code --enable-native-access=io.jvfio.sys}). Other modules see
 * typed owners and records; the system calls themselves ({@code io.jvfio.sys.libc}) stay inside, and each
 * kernel ABI package is exported only to the module that wraps it.
 */
module io.jvfio.sys {
    exports io.jvfio.sys;
    exports io.jvfio.sys.kvm.vcpu;
    // The java raw diagnostic in bench measures KVM_RUN on sys alone, without jvfio's kvm module.
    exports io.jvfio.sys.kvm to io.jvfio.kvm, io.jvfio.bench;
    exports io.jvfio.sys.vfio to io.jvfio.vfio.kernel;
    exports io.jvfio.sys.iommufd to io.jvfio.vfio.kernel;
}
