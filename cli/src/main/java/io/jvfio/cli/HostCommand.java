package io.jvfio.cli;

import io.jvfio.kvm.Cap;
import io.jvfio.kvm.GuestCodeProbe;
import io.jvfio.kvm.IrqWindowProbe;
import io.jvfio.kvm.IrqchipProbe;
import io.jvfio.kvm.IrqchipSemantics;
import io.jvfio.kvm.Kvm;
import io.jvfio.kvm.KvmUnavailableException;
import io.jvfio.machine.IrqchipSelection;
import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.sys.ErrnoException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@code jvfio host}: what this host offers jvfio, one line per check as libvirt's virt-host-validate
 * prints them: KVM and each capability jvfio uses, whether the in-kernel irqchip keeps interrupts in
 * service until EOI ({@link IrqchipProbe} runs a tiny guest to tell), whether guests run a stock kernel's
 * int3 ({@link GuestCodeProbe}), kernel VFIO, and the nested-guest
 * fallback of tools/nested. A FAIL means jvfio cannot run guests here; a WARN names what is missing or
 * degraded.
 */
final class HostCommand implements Subcommand {
    static final CommandSpec SPEC = CommandSpec.of(
            "host",
            "Check this host for jvfio, like virt-host-validate.",
            "Check this host for jvfio, like virt-host-validate: /dev/kvm and the KVM capabilities jvfio uses, whether "
                    + "the in-kernel irqchip keeps interrupts in service until EOI (a short probe guest tells), kernel "
                    + "VFIO (/dev/vfio/vfio, /dev/iommu, the vfio-platform driver) and the nested-guest fallback "
                    + "(tools/nested). One line per check: PASS, WARN or FAIL with the reason; exit 1 when a check "
                    + "FAILs.");

    enum Status {
        PASS,
        WARN,
        FAIL
    }

    /** One line of the report: {@code AREA: NAME .... STATUS (REASON)}; the reason may be empty. */
    record Check(String area, String name, Status status, String reason) {
        String label() {
            return area + ": " + name;
        }
    }

    /** A KVM capability jvfio uses; without a required one no machine starts, without another a path degrades. */
    private record Capability(Cap cap, boolean required, String withoutIt) {}

    static final String IRQCHIP_CHECK = "in-kernel irqchip keeps interrupts in service until EOI";
    static final String WINDOW_CHECK = "interrupt-window exit comes once the guest can take an interrupt";
    static final String GUEST_CODE_CHECK = "guests run int3, as a stock Linux kernel's boot does";

    private static final List<Capability> CAPABILITIES = List.of(
            new Capability(
                    Cap.IRQCHIP,
                    false,
                    "no in-kernel irqchip: machines run on jvfio's own (kernel-irqchip=off), without KVM irqfd"),
            new Capability(Cap.USER_MEMORY, true, "no memory slots for guest RAM"),
            new Capability(Cap.SET_TSS_ADDR, true, "cannot place the TSS pages"),
            new Capability(Cap.SET_IDENTITY_MAP_ADDR, true, "cannot place the identity-map page"),
            new Capability(Cap.EXT_CPUID, true, "no KVM_GET_SUPPORTED_CPUID"),
            new Capability(
                    Cap.IRQ_ROUTING,
                    false,
                    "cannot route GSIs to the in-kernel IOAPIC: machines run on jvfio's own irqchip"),
            new Capability(Cap.IMMEDIATE_EXIT, true, "a kick just before KVM_RUN is lost, so a vCPU may not stop"),
            new Capability(Cap.IRQFD, false, "device interrupts take the user-side path, as with x-irqfd=off"),
            new Capability(Cap.IRQFD_RESAMPLE, false, "level interrupts take the user-side path, as with x-irqfd=off"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, PrintWriter out, PrintWriter err) {
        List<Check> checks = new ArrayList<>();
        checks.addAll(kvmChecks());
        checks.addAll(vfioChecks());
        checks.addAll(nestedChecks());
        for (String line : format(checks)) {
            out.println(line);
        }
        return checks.stream().anyMatch(check -> check.status() == Status.FAIL) ? Jvfio.EXIT_FAILURE : 0;
    }

    /** The checks as lines whose statuses start in one column: the name padded with dots. */
    private static List<String> format(List<Check> checks) {
        int width =
                checks.stream().mapToInt(check -> check.label().length()).max().orElse(0) + 4;
        List<String> lines = new ArrayList<>(checks.size());
        for (Check check : checks) {
            String label = check.label() + " ";
            lines.add(label + ".".repeat(width - label.length()) + " " + check.status()
                    + (check.reason().isEmpty() ? "" : " (" + check.reason() + ")"));
        }
        return lines;
    }

    private static List<Check> kvmChecks() {
        List<Check> checks = new ArrayList<>();
        IrqchipSelection auto;
        IrqchipSemantics semantics;
        try (Kvm kvm = Kvm.open()) {
            checks.add(new Check("KVM", Kvm.DEVICE + " opens", Status.PASS, ""));
            checks.add(new Check("KVM", "API version " + kvm.apiVersion(), Status.PASS, ""));
            for (Capability capability : CAPABILITIES) {
                boolean present = kvm.hasCapability(capability.cap());
                checks.add(new Check(
                        "KVM",
                        capability.cap().kernelName(),
                        present ? Status.PASS : capability.required() ? Status.FAIL : Status.WARN,
                        present ? "" : "absent: " + capability.withoutIt()));
            }
            // Both probes run again rather than read what an earlier process kept: this is the command that
            // checks the host, and what it finds is kept for the processes after it.
            semantics = IrqchipProbe.probeAgain();
            auto = IrqchipSelection.choose(IrqchipMode.AUTO, kvm);
        } catch (KvmUnavailableException e) {
            checks.add(new Check(
                    "KVM",
                    Kvm.DEVICE + " opens",
                    Status.FAIL,
                    e.getMessage().replaceFirst("^KVM is not available: ", "")));
            return checks;
        } catch (ErrnoException e) {
            checks.add(new Check("KVM", "capabilities", Status.FAIL, e.getMessage()));
            return checks;
        }
        checks.add(irqchipCheck(semantics, auto));
        checks.add(windowCheck(IrqWindowProbe.probeAgain()));
        checks.add(guestCodeCheck());
        return checks;
    }

    private static Check irqchipCheck(IrqchipSemantics semantics, IrqchipSelection auto) {
        return switch (semantics.verdict()) {
            case EXACT ->
                new Check(
                        "KVM",
                        IRQCHIP_CHECK,
                        Status.PASS,
                        String.format(
                                Locale.ROOT,
                                "yes, as documented; probed in %.1f ms",
                                semantics.elapsed().toNanos() / 1e6));
            case EOI_AT_DELIVERY ->
                new Check(
                        "KVM",
                        IRQCHIP_CHECK,
                        Status.WARN,
                        "no: EOI side effects happen at delivery; " + autoChoice(auto));
            case PROBE_FAILED ->
                new Check(
                        "KVM",
                        IRQCHIP_CHECK,
                        Status.WARN,
                        "unknown: " + semantics.evidence() + "; " + autoChoice(auto));
        };
    }

    static Check windowCheck(IrqWindowProbe.Timing timing) {
        String probed =
                String.format(Locale.ROOT, "probed in %.1f ms", timing.elapsed().toNanos() / 1e6);
        if (timing.probeFailed()) {
            return new Check(
                    "KVM",
                    WINDOW_CHECK,
                    Status.WARN,
                    "unknown: " + timing.evidence() + "; jvfio's own irqchip also ends KVM_RUN every so often to"
                            + " look");
        }
        return timing.prompt()
                ? new Check(
                        "KVM", WINDOW_CHECK, Status.PASS, "yes, as documented: " + timing.evidence() + "; " + probed)
                : new Check(
                        "KVM",
                        WINDOW_CHECK,
                        Status.WARN,
                        "no: " + timing.evidence() + "; jvfio's own irqchip also ends KVM_RUN every so often to look, "
                                + probed);
    }

    /** The int3 a stock kernel executes at boot, which a software KVM's emulator (kvm_pvm) cannot run. */
    private static Check guestCodeCheck() {
        try {
            return GuestCodeProbe.runsInt3()
                    ? new Check("KVM", GUEST_CODE_CHECK, Status.PASS, "")
                    : new Check(
                            "KVM",
                            GUEST_CODE_CHECK,
                            Status.WARN,
                            "no: KVM stops a guest at int3, so a stock Linux kernel cannot boot here; ./jvfio demo"
                                    + " --linux and the linux tier run in the nested guest");
        } catch (IOException e) {
            return new Check("KVM", GUEST_CODE_CHECK, Status.WARN, "unknown: " + e.getMessage());
        }
    }

    /** What kernel-irqchip=auto does here, as the machine decides it. */
    private static String autoChoice(IrqchipSelection auto) {
        return (auto.inKernel() ? "jvfio uses KVM's irqchip" : "jvfio uses its own irqchip")
                + ", kernel-irqchip=auto -> " + auto.effective();
    }

    private static List<Check> vfioChecks() {
        List<Check> checks = new ArrayList<>();
        checks.add(deviceNode(
                Path.of("/dev/vfio/vfio"), "the type1 container", "absent: no VFIO group container; modprobe vfio"));
        checks.add(deviceNode(
                Path.of("/dev/iommu"),
                "iommufd",
                "absent: no iommufd for VFIO device cdevs; modprobe iommufd on Linux 6.2 or later"));
        checks.add(vfioPlatformCheck());
        return checks;
    }

    private static Check deviceNode(Path path, String what, String reasonIfAbsent) {
        boolean exists = Files.exists(path);
        return new Check("VFIO", path + ", " + what, exists ? Status.PASS : Status.WARN, exists ? "" : reasonIfAbsent);
    }

    /** Registered with the platform bus, or at least built for this kernel (as a module or built in). */
    private static Check vfioPlatformCheck() {
        String name = "vfio-platform driver";
        if (Files.isDirectory(Path.of("/sys/bus/platform/drivers/vfio-platform"))) {
            return new Check("VFIO", name, Status.PASS, "");
        }
        Path modules = Path.of("/lib/modules", System.getProperty("os.version"));
        if (listsModule(modules.resolve("modules.dep")) || listsModule(modules.resolve("modules.builtin"))) {
            return new Check("VFIO", name, Status.WARN, "not loaded: modprobe vfio-platform");
        }
        String consequence = "host platform devices cannot be assigned, vfio-user ones can";
        return new Check(
                "VFIO",
                name,
                Status.WARN,
                Files.isDirectory(modules)
                        ? "not built for this kernel: " + consequence
                        : "not loaded, and " + modules + " is missing: " + consequence);
    }

    private static boolean listsModule(Path list) {
        try (Stream<String> lines = Files.lines(list)) {
            return lines.anyMatch(line -> line.contains("/vfio-platform.ko"));
        } catch (IOException e) {
            return false;
        }
    }

    /** tools/nested runs the kvm and vfio tiers (and the demo) in a QEMU guest where this host lacks them. */
    private static List<Check> nestedChecks() {
        List<Check> checks = new ArrayList<>();
        boolean qemu = onPath("qemu-system-x86_64");
        checks.add(new Check(
                "Nested",
                "qemu-system-x86_64 for tools/nested",
                qemu ? Status.PASS : Status.WARN,
                qemu ? "" : "absent: tools/nested/prepare.sh installs it"));
        String cacheSetting = System.getenv("JVFIO_NESTED_CACHE");
        Path cache = cacheSetting == null || cacheSetting.isEmpty()
                ? Path.of(System.getProperty("user.home"), ".cache", "jvfio-nested")
                : Path.of(cacheSetting);
        Path current = cache.resolve("current");
        boolean prepared =
                Files.isReadable(current.resolve("vmlinuz")) && Files.isReadable(current.resolve("initramfs.cpio.gz"));
        checks.add(new Check(
                "Nested",
                "prepared guest kernel and initramfs",
                prepared ? Status.PASS : Status.WARN,
                prepared ? "" : "absent from " + cache + ": run tools/nested/prepare.sh"));
        return checks;
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        return path != null
                && Stream.of(path.split(":"))
                        .filter(dir -> !dir.isEmpty())
                        .anyMatch(dir -> Files.isExecutable(Path.of(dir, program)));
    }
}
