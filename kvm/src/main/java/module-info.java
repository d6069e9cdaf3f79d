/** KVM as objects with lifetimes: {@code Kvm}, {@code Vm}, {@code Vcpu} and its exits. */
// Qualified exports name modules built after this one: javac cannot see them yet.
@SuppressWarnings("module")
module io.jvfio.kvm {
    requires transitive io.jvfio.sys;

    exports io.jvfio.kvm to
            io.jvfio.machine,
            io.jvfio.cli,
            io.jvfio.bench;
}
