/**
 * The native layer, the only module that touches {@code java.lang.foreign}: jvfio runs with
 * {@code --enable-native-access=io.jvfio.sys}, so the JVM names any other module that calls a restricted
 * method (and refuses it under {@code --illegal-native-access=deny}). Other modules see typed owners and
 * records; the system calls themselves ({@code io.jvfio.sys.libc}) stay inside, and each kernel ABI
 * package is exported only to the module that wraps it.
 */
// Qualified exports name modules built after this one: javac cannot see them yet.
@SuppressWarnings("module")
module io.jvfio.sys {
    exports io.jvfio.sys;
    exports io.jvfio.sys.event;
    exports io.jvfio.sys.kvm.vcpu;
    // jvfio's irqchip in machine drains the ring that kvm's vCPU mapping holds.
    exports io.jvfio.sys.kvm.ring to
            io.jvfio.kvm,
            io.jvfio.machine;
    // The java raw diagnostic in bench measures KVM_RUN on sys alone, without jvfio's kvm module.
    exports io.jvfio.sys.kvm to
            io.jvfio.kvm,
            io.jvfio.bench;
    exports io.jvfio.sys.vfio to
            io.jvfio.vfio.kernel;
    exports io.jvfio.sys.iommufd to
            io.jvfio.vfio.kernel;
}
