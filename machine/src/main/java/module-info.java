/**
 * The KVM machine: RAM, vCPU threads, buses, irqchips, boot; its event loop is sys's. Its users never see
 * {@code kvm.Vm}: interrupt lines, irqfds included, come from {@code Machine.irqLine}.
 */
// Qualified exports name modules built after this one: javac cannot see them yet.
@SuppressWarnings("module")
module io.jvfio.machine {
    requires transitive io.jvfio.chips;
    requires io.jvfio.kvm;
    requires transitive io.jvfio.sys;
    requires jdk.jfr;

    exports io.jvfio.machine;
    exports io.jvfio.machine.acpi;
    exports io.jvfio.machine.boot;
    exports io.jvfio.machine.boot.linux to
            io.jvfio.cli,
            io.jvfio.bench;
    exports io.jvfio.machine.bus;
    exports io.jvfio.machine.irqchip;
    exports io.jvfio.machine.serial to
            io.jvfio.cli,
            io.jvfio.bench;
}
