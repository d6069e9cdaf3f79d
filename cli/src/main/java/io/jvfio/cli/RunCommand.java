package io.jvfio.cli;

import io.jvfio.devices.OptionNumbers;
import io.jvfio.machine.GuestFailedException;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.boot.linux.LinuxBoot;
import io.jvfio.machine.boot.linux.LinuxKernel;
import io.jvfio.machine.irqchip.IrqchipCounters;
import io.jvfio.platform.AssignedMachine;
import io.jvfio.platform.IrqPath;
import io.jvfio.platform.VfioPlatformDevice;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.platform.irq.IrqController;
import io.jvfio.vfiouser.ReplyPolling;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * {@code jvfio run}: boots a guest with VFIO platform devices assigned, echoes its console, feeds its
 * standard input to the console's receiver, and exits with the guest's exit code.
 */
final class RunCommand implements Subcommand {
    static final long DEFAULT_GUEST_RAM_MIB = 64;
    /** Debian's kernel alone spans 16-74 MiB of physical memory while it decompresses. */
    static final long DEFAULT_KERNEL_RAM_MIB = 256;

    static final long DEFAULT_TIMEOUT_SECONDS = 300;
    /** The longest wait the machine can time: a timeout in nanoseconds must fit in a long (292 years). */
    static final long MAX_TIMEOUT_SECONDS = Long.MAX_VALUE / 1_000_000_000L;

    static final CommandSpec SPEC = CommandSpec.of(
                    "run",
                    "Boot a guest or a Linux kernel with devices assigned.",
                    "Boot a guest ELF or a Linux kernel with VFIO platform devices assigned; print its console and feed it "
                            + "standard input (the 16550A's receiver, at the guest's pace); exit with its exit code (what it "
                            + "writes to port 0x501; 0 when Linux powers the machine off).",
                    OptionSpec.value(
                            "ELF|NAME",
                            "The guest: an ELF64 file, or the name of a guest built into jvfio (testdev, "
                                    + "hello, irq, mmio, ...). Exactly one of --guest and --kernel.",
                            "--guest"),
                    OptionSpec.value(
                            "PATH",
                            "A Linux kernel: a bzImage (entered at its 64-bit entry) or an ELF vmlinux with a "
                                    + "PVH entry. The machine describes itself to it with ACPI tables; its console is the 16550A at "
                                    + "0x3F8 (console=ttyS0).",
                            "--kernel"),
                    OptionSpec.value(
                            "PATH", "With --kernel: the initial ramdisk (a cpio, compressed or not).", "--initrd"),
                    OptionSpec.value("CMDLINE", "With --kernel: the kernel command line.", "--append"),
                    OptionSpec.value(
                                    "SPEC",
                                    "A device to assign, QEMU-style: vfio-platform,socket=PATH|host=NAME|sysfsdev=PATH"
                                            + "[,id=..,x-no-mmap=on,mmap-timeout-ms=..,x-irqfd=off,compat=..,iommufd=auto|on|off,x-precise-eoi=..,x-reply-timeout-ms=..,"
                                            + "x-reply-poll-max-us=..,x-dt-node=DTB,x-acpi-hid=ID]. Repeatable.",
                                    "--device")
                            .mayRepeat(),
                    OptionSpec.value(
                                    "N",
                                    "A guest argument (boot info args[0..7], decimal or 0x hex). Repeatable, in order.",
                                    "--arg")
                            .mayRepeat(),
                    OptionSpec.value("PROPS", MachineProperties.DESCRIPTION, "--machine"),
                    OptionSpec.value(
                            "MiB",
                            "Guest RAM in MiB (2..3072; default " + DEFAULT_GUEST_RAM_MIB + " for --guest, "
                                    + DEFAULT_KERNEL_RAM_MIB + " for --kernel).",
                            "--ram"),
                    OptionSpec.value(
                            "S",
                            "Seconds to wait for the guest to exit (default " + DEFAULT_TIMEOUT_SECONDS + ").",
                            "--timeout"))
            .withFooter(
                    "Examples:",
                    "  jvfio serve test-device --socket /tmp/dev.sock &",
                    "  jvfio run --guest testdev --device vfio-platform,socket=/tmp/dev.sock \\",
                    "      --arg 100 --arg 3 --arg 1      # 100 interrupts on lines 0 and 1, ping-pong",
                    "  jvfio run --kernel bzImage --initrd initrd.cpio \\",
                    "      --append 'console=ttyS0 earlyprintk=serial quiet'");

    /** What the console UART receives (the process's stdin), or null for nothing. */
    private final InputStream consoleInput;

    RunCommand(InputStream consoleInput) {
        this.consoleInput = consoleInput;
    }

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs parsed, PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
        Optional<String> guest = parsed.value("--guest");
        Optional<String> kernelPath = parsed.value("--kernel");
        if (guest.isPresent() == kernelPath.isPresent()) {
            throw new UsageException(
                    guest.isPresent()
                            ? "--guest and --kernel are mutually exclusive: give one of them"
                            : "give the guest: --guest ELF|NAME or --kernel PATH");
        }
        Optional<String> initrd = parsed.value("--initrd");
        Optional<String> append = parsed.value("--append");
        List<PlatformDeviceConfig> devices = parsed.values("--device", DeviceSpecParser::parse);
        List<Long> args = parsed.values("--arg", OptionNumbers::parseLong);
        MachineProperties machine =
                parsed.value("--machine", MachineProperties::parse).orElse(MachineProperties.DEFAULTS);
        long ramMiB = parsed.value("--ram", OptionNumbers::parseLong)
                .orElse(kernelPath.isPresent() ? DEFAULT_KERNEL_RAM_MIB : DEFAULT_GUEST_RAM_MIB);
        long timeoutSeconds =
                parsed.value("--timeout", OptionNumbers::parseLong).orElse(DEFAULT_TIMEOUT_SECONDS);
        if (args.size() > BootInfo.MAX_ARGS) {
            throw new UsageException("--arg: at most " + BootInfo.MAX_ARGS + " guest arguments, got " + args.size());
        }
        if (kernelPath.isPresent() && !args.isEmpty()) {
            throw new UsageException("--arg goes with --guest; a kernel takes --append");
        }
        if (guest.isPresent() && (initrd.isPresent() || append.isPresent())) {
            throw new UsageException((initrd.isPresent() ? "--initrd" : "--append") + " goes with --kernel");
        }
        if (ramMiB < 2 || ramMiB > MachineConfig.MAX_RAM_SIZE >> 20) {
            throw new UsageException("--ram: wants 2.." + (MachineConfig.MAX_RAM_SIZE >> 20) + " MiB, got " + ramMiB);
        }
        if (timeoutSeconds <= 0 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
            throw new UsageException("--timeout: wants 1.." + MAX_TIMEOUT_SECONDS + " seconds, got " + timeoutSeconds);
        }
        MachineConfig.Builder builder = machine.applyTo(MachineConfig.builder()
                .ramSize(ramMiB << 20)
                .consoleEcho(consoleTo(out))
                .consoleInput(consoleInput));
        if (kernelPath.isPresent()) {
            LinuxKernel kernel = new LinuxKernel(
                    file("--kernel", kernelPath.get()),
                    initrd.isPresent() ? file("--initrd", initrd.get()) : null,
                    append.orElse(""));
            // A kernel, initrd or command line that cannot boot is named before KVM and the devices are opened.
            LinuxBoot.check(kernel, ramMiB << 20);
            builder.kernel(kernel);
        } else {
            builder.guest(guestImage(guest.get()))
                    .args(args.stream().mapToLong(Long::longValue).toArray());
        }
        MachineConfig machineConfig = builder.build();
        try (AssignedMachine assignment = AssignedMachine.create(machineConfig, devices)) {
            long started = System.nanoTime();
            assignment.machine().start();
            int code;
            try {
                code = assignment.machine().awaitExit(Duration.ofSeconds(timeoutSeconds));
            } catch (GuestFailedException e) {
                out.flush();
                throw new IOException("guest failed: " + e.reason());
            } catch (TimeoutException e) {
                out.flush();
                throw new IOException("the guest did not exit within " + timeoutSeconds + " s (--timeout)");
            }
            out.flush();
            err.println(
                    "jvfio run: guest exited with " + code + " after " + seconds(System.nanoTime() - started) + " s");
            irqSummary(assignment).forEach(err::println);
            replySummary(assignment).forEach(err::println);
            return code;
        }
    }

    /**
     * {@code nanos} as seconds with two decimals, without a Formatter: a floating-point conversion's first
     * use loads locale data, milliseconds of every run.
     */
    static String seconds(long nanos) {
        long hundredths = Math.round(nanos / 1e7);
        long fraction = hundredths % 100;
        return hundredths / 100 + (fraction < 10 ? ".0" : ".") + fraction;
    }

    /**
     * A line per assigned device's IRQ with what jvfio counted on its path, so that a run can be checked
     * against the device's and the guest's own counts. On the irqfd path KVM delivers and the guest's EOI
     * reaches the device without jvfio, so there is nothing of jvfio's to count.
     */
    static List<String> irqSummary(AssignedMachine assignment) {
        Optional<IrqchipCounters> irqchip = assignment.machine().irqchipCounters();
        List<String> lines = new ArrayList<>();
        for (VfioPlatformDevice device : assignment.devices()) {
            for (VfioPlatformDevice.WiredIrq irq : device.irqs()) {
                int index = irq.info().index();
                StringBuilder line = new StringBuilder(String.format(
                        Locale.ROOT,
                        "jvfio run: vfio %s IRQ %d (GSI %d, %s): ",
                        device.name(),
                        index,
                        irq.gsi(),
                        irq.info().automasked() ? "level" : "edge"));
                if (irq.path() == IrqPath.IRQFD) {
                    line.append("KVM irqfd, delivered and ended inside KVM");
                } else {
                    IrqController.IrqCounters c =
                            device.irqController().orElseThrow().counters(index);
                    line.append(String.format(
                            Locale.ROOT,
                            "user side, %d triggers, %d injections, %d coalesced, %d cancelled, %d EOIs, %d unmasks,"
                                    + " %d ended by a reset",
                            c.triggers(),
                            c.injections(),
                            c.coalesced(),
                            c.cancelledByReset(),
                            c.eois(),
                            c.unmasks(),
                            c.endedByReset()));
                }
                irqchip.ifPresent(chip -> line.append(String.format(
                        Locale.ROOT,
                        "; jvfio's IOAPIC pin %d: %d deliveries, %d EOIs",
                        irq.gsi(),
                        chip.deliveries(irq.gsi()),
                        chip.endsOfInterrupt(irq.gsi()))));
                lines.add(line.toString());
            }
        }
        return lines;
    }

    /**
     * A line per device behind vfio-user: how its region accesses waited for their replies, polling or
     * blocked (docs/ARCHITECTURE.md), so that a run shows whether polling pays on its host.
     */
    static List<String> replySummary(AssignedMachine assignment) {
        List<String> lines = new ArrayList<>();
        for (VfioPlatformDevice device : assignment.devices()) {
            if (device.backend() instanceof VfioUserDevice client) {
                ReplyPolling.Stats stats = client.replyPolling();
                lines.add("jvfio run: vfio " + device.name() + ": " + stats.polled()
                        + " replies to region accesses found by polling, " + stats.blocked() + " waited for blocked"
                        + (stats.max().isZero()
                                ? " (polling off: x-reply-poll-max-us=0, or a process limited to one CPU)"
                                : ""));
            }
        }
        return lines;
    }

    /** The bytes of the file at {@code path}, or a usage error naming {@code option} when it cannot be read. */
    private static byte[] file(String option, String path) {
        try {
            return Files.readAllBytes(Path.of(path));
        } catch (NoSuchFileException e) {
            throw new UsageException(option + ": no such file: " + path);
        } catch (IOException e) {
            throw new UsageException(option + ": cannot read " + path + ": " + e.getMessage());
        }
    }

    /** The ELF at {@code guest} if that is a file, else the built-in guest of that name. */
    static byte[] guestImage(String guest) throws IOException {
        Path file = Path.of(guest);
        if (Files.isRegularFile(file)) {
            return Files.readAllBytes(file);
        }
        if (guest.contains("/") || guest.endsWith(".elf")) {
            throw new UsageException("--guest: no such file: " + guest);
        }
        try {
            return MachineConfig.guestResource(guest);
        } catch (IOException e) {
            throw new UsageException(
                    "--guest: '" + guest + "' is neither a file nor a built-in guest (e.g. testdev, " + "hello, irq)");
        }
    }

    /** The guest's console bytes, echoed as they come (the guest writes ASCII). */
    static PrintStream consoleTo(PrintWriter out) {
        return new PrintStream(
                new OutputStream() {
                    @Override
                    public void write(int b) {
                        out.write(b & 0xff);
                        if (b == '\n') {
                            out.flush();
                        }
                    }

                    @Override
                    public void flush() {
                        out.flush();
                    }
                },
                true,
                StandardCharsets.ISO_8859_1);
    }
}
