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
import io.jvfio.platform.config.PlatformDeviceConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jvfio run}: boots a guest with VFIO platform devices assigned, echoes its console, and exits
 * with the guest's exit code.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Boot a guest ELF with VFIO platform devices assigned; print its console; exit with its exit code.",
        footerHeading = "%nExample:%n",
        footer = {"  jvfio serve test-device --socket /tmp/dev.sock &",
            "  jvfio run --guest testdev --device vfio-platform,socket=/tmp/dev.sock \\",
            "      --arg 100 --arg 3 --arg 1      # 100 interrupts on lines 0 and 1, ping-pong"})
final class RunCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--guest", required = true, paramLabel = "ELF|NAME",
            description = "The guest: an ELF64 file, or the name of a guest built into jvfio (testdev, hello, irq, mmio, ...).")
    String guest;

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

    @Option(names = "--ram", paramLabel = "MiB", defaultValue = "64", description = "Guest RAM in MiB (2..3072, default ${DEFAULT-VALUE}).")
    long ramMiB;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "300",
            description = "Seconds to wait for the guest to exit (default ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (args.size() > BootInfo.MAX_ARGS) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--arg: at most " + BootInfo.MAX_ARGS + " guest arguments, got " + args.size());
        }
        if (ramMiB < 2 || ramMiB > MachineConfig.MAX_RAM_SIZE >> 20) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--ram: wants 2.."
                    + (MachineConfig.MAX_RAM_SIZE >> 20) + " MiB, got " + ramMiB);
        }
        if (timeoutSeconds <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout: wants a positive number of seconds, got "
                    + timeoutSeconds);
        }
        byte[] image = guestImage(spec.commandLine(), guest);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        MachineConfig machineConfig = MachineConfig.builder().guest(image)
                .args(args.stream().mapToLong(Long::longValue).toArray()).ramSize(ramMiB << 20)
                .consoleEcho(consoleTo(out)).irqchip(machine.irqchip()).build();
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
                throw new IOException("the guest did not exit within " + timeoutSeconds + " s (--timeout)");
            }
            out.flush();
            err.println(String.format(Locale.ROOT, "jvfio run: guest exited with %d after %.2f s", code,
                    (System.nanoTime() - started) / 1e9));
            return code;
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
