package io.jvfio.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;

import io.jvfio.machine.GuestFailedException;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.boot.linux.LinuxBoot;
import io.jvfio.machine.boot.linux.LinuxKernel;
import io.jvfio.platform.config.PlatformDeviceConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jvfio run}: boots a guest (an ELF of jvfio's guest contract, or a Linux kernel) with VFIO platform
 * devices assigned, echoes its console, and exits with the guest's exit code.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Boot a guest ELF or a Linux kernel with VFIO platform devices assigned; print its console;"
                + " exit with its exit code (what it writes to port 0x501).",
            "A Linux guest's console is port 0x3F8 (earlyprintk=serial); it cannot power the machine off yet (no ACPI),"
                + " so it ends by writing port 0x501 (e.g. through /dev/port) or at --timeout."},
        footerHeading = "%nExamples:%n",
        footer = {"  jvfio serve test-device --socket /tmp/dev.sock &",
            "  jvfio run --guest testdev --device vfio-platform,socket=/tmp/dev.sock \\",
            "      --arg 100 --arg 3 --arg 1      # 100 interrupts on lines 0 and 1, ping-pong",
            "  jvfio run --kernel bzImage --initrd initrd.cpio \\",
            "      --append 'console=ttyS0 earlyprintk=serial quiet'"})
final class RunCommand implements Callable<Integer> {
    static final long DEFAULT_GUEST_RAM_MIB = 64;
    /** Debian's kernel alone spans 16-74 MiB of physical memory while it decompresses. */
    static final long DEFAULT_KERNEL_RAM_MIB = 256;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    Guest what;

    /** Either jvfio's own kind of guest or a Linux kernel, as QEMU takes {@code -kernel}. */
    static final class Guest {
        @Option(names = "--guest", required = true, paramLabel = "ELF|NAME",
                description = "The guest: an ELF64 file, or the name of a guest built into jvfio (testdev, hello, irq, mmio, ...).")
        String guest;

        @Option(names = "--kernel", required = true, paramLabel = "PATH",
                description = "A Linux kernel: a bzImage (entered at its 64-bit entry) or an ELF vmlinux with a PVH entry.")
        Path kernel;
    }

    @Option(names = "--initrd", paramLabel = "PATH", description = "With --kernel: the initial ramdisk (a cpio, compressed or not).")
    Path initrd;

    @Option(names = "--append", paramLabel = "CMDLINE", description = "With --kernel: the kernel command line.")
    String append;

    @Option(names = "--device", paramLabel = "SPEC", converter = DeviceSpecConverter.class,
            description = "A device to assign, QEMU-style: vfio-platform,socket=PATH|host=NAME|sysfsdev=PATH"
                    + "[,id=..,x-no-mmap=on,mmap-timeout-ms=..,x-irqfd=off,compat=..,x-reply-timeout-ms=..,x-dt-node=DTB]. Repeatable.")
    List<PlatformDeviceConfig> devices = new ArrayList<>();

    @Option(names = "--arg", paramLabel = "N", converter = Numbers.LongConverter.class,
            description = "A guest argument (boot info args[0..7], decimal or 0x hex). Repeatable, in order.")
    List<Long> args = new ArrayList<>();

    @Option(names = "--machine", paramLabel = "PROPS", converter = MachineProperties.Converter.class,
            description = MachineProperties.DESCRIPTION)
    MachineProperties machine = MachineProperties.DEFAULTS;

    @Option(names = "--ram", paramLabel = "MiB",
            description = "Guest RAM in MiB (2..3072; default 64 for --guest, 256 for --kernel).")
    Long ramMiB;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "300",
            description = "Seconds to wait for the guest to exit (default ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Override
    public Integer call() throws IOException, InterruptedException {
        CommandLine commandLine = spec.commandLine();
        if (args.size() > BootInfo.MAX_ARGS) {
            throw new CommandLine.ParameterException(commandLine,
                    "--arg: at most " + BootInfo.MAX_ARGS + " guest arguments, got " + args.size());
        }
        if (what.kernel != null && !args.isEmpty()) {
            throw new CommandLine.ParameterException(commandLine, "--arg goes with --guest; a kernel takes --append");
        }
        if (what.kernel == null && (initrd != null || append != null)) {
            throw new CommandLine.ParameterException(commandLine, (initrd != null ? "--initrd" : "--append")
                    + " goes with --kernel");
        }
        long ram = ramMiB != null ? ramMiB : what.kernel != null ? DEFAULT_KERNEL_RAM_MIB : DEFAULT_GUEST_RAM_MIB;
        if (ram < 2 || ram > MachineConfig.MAX_RAM_SIZE >> 20) {
            throw new CommandLine.ParameterException(commandLine, "--ram: wants 2.."
                    + (MachineConfig.MAX_RAM_SIZE >> 20) + " MiB, got " + ram);
        }
        if (timeoutSeconds <= 0) {
            throw new CommandLine.ParameterException(commandLine, "--timeout: wants a positive number of seconds, got "
                    + timeoutSeconds);
        }
        PrintWriter out = commandLine.getOut();
        PrintWriter err = commandLine.getErr();
        MachineConfig.Builder builder = MachineConfig.builder().ramSize(ram << 20).consoleEcho(consoleTo(out))
                .irqchip(machine.irqchip());
        if (what.kernel != null) {
            LinuxKernel kernel = new LinuxKernel(file(commandLine, "--kernel", what.kernel),
                    initrd == null ? null : file(commandLine, "--initrd", initrd), append == null ? "" : append);
            // A kernel, initrd or command line that cannot boot is named before KVM and the devices are opened.
            LinuxBoot.check(kernel, ram << 20);
            builder.kernel(kernel);
        } else {
            builder.guest(guestImage(commandLine, what.guest)).args(args.stream().mapToLong(Long::longValue).toArray());
        }
        MachineConfig machineConfig = builder.build();
        try (Assignment assignment = Assignment.create(machineConfig, devices)) {
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
                throw new IOException("the guest did not exit within " + timeoutSeconds + " s (--timeout)"
                        + (what.kernel != null ? "; Linux cannot power jvfio's machine off yet: write the exit code to"
                        + " port 0x501 (/dev/port)" : ""));
            }
            out.flush();
            err.println(String.format(Locale.ROOT, "jvfio run: guest exited with %d after %.2f s", code,
                    (System.nanoTime() - started) / 1e9));
            return code;
        }
    }

    /** The bytes of {@code path}, or a usage error naming {@code option} when there is no such file. */
    private static byte[] file(CommandLine commandLine, String option, Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new CommandLine.ParameterException(commandLine, option + ": no such file: " + path, e, null,
                    path.toString());
        } catch (IOException e) {
            throw new CommandLine.ParameterException(commandLine, option + ": cannot read " + path + ": " + e.getMessage(),
                    e, null, path.toString());
        }
    }

    /** The ELF at {@code guest} if that is a file, else the built-in guest of that name. */
    static byte[] guestImage(CommandLine commandLine, String guest) throws IOException {
        Path file = Path.of(guest);
        if (Files.isRegularFile(file)) {
            return Files.readAllBytes(file);
        }
        if (guest.contains("/") || guest.endsWith(".elf")) {
            throw new CommandLine.ParameterException(commandLine, "--guest: no such file: " + guest,
                    new NoSuchFileException(guest), null, guest);
        }
        try {
            return MachineConfig.guestResource(guest);
        } catch (IOException e) {
            throw new CommandLine.ParameterException(commandLine, "--guest: '" + guest
                    + "' is neither a file nor a built-in guest (e.g. testdev, hello, irq)");
        }
    }

    /** The guest's console bytes, echoed as they come (the guest writes ASCII). */
    static PrintStream consoleTo(PrintWriter out) {
        return new PrintStream(new OutputStream() {
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
        }, true, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
