package io.jvfio.cli;

import io.jvfio.devices.ServerProcess;
import io.jvfio.kvm.GuestCodeProbe;
import io.jvfio.machine.GuestFailedException;
import io.jvfio.machine.IrqchipSelection;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.boot.linux.BusyboxInitramfs;
import io.jvfio.machine.boot.linux.KernelImages;
import io.jvfio.machine.boot.linux.LinuxBoot;
import io.jvfio.machine.boot.linux.LinuxKernel;
import io.jvfio.platform.AssignedMachine;
import io.jvfio.platform.IrqPath;
import io.jvfio.platform.VfioPlatformDevice;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.irq.IrqController;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code jvfio demo --linux}: Debian's stock kernel, as tools/nested/prepare.sh fetched it, boots to a
 * busybox /init with two devices that child processes serve over vfio-user assigned, a 16550A
 * ({@code jvfio serve ns16550a}) and a virtio entropy device ({@code jvfio serve virtio-rng --seed}), and its
 * own drivers drive them: 8250_pnp binds the UART through the DSDT as ttyS1, virtio_mmio and virtio-rng bind
 * the other as LNRO0005. /init reads /dev/hwrng, says a line through ttyS1 and reads the host's answer, then
 * prints its kernel log's lines about those bindings and its /proc/interrupts. The report puts them beside
 * what the devices and jvfio counted; every count must agree.
 */
final class LinuxDemo {
    static final long SEED = 20261203;
    static final int HWRNG_BYTES = 64;
    static final String GUEST_LINE = "jvfio-demo: hello from the guest through ttyS1";
    static final String HOST_LINE = "jvfio-demo: hello back from the host end";

    static final String INIT_MARKER = "jvfio-demo: init ran";
    private static final String REPORT_MARKER = "jvfio-demo: report";
    private static final String END_MARKER = "jvfio-demo: end";
    private static final String HWRNG_PREFIX = "jvfio-demo: hwrng: ";
    private static final String READ_PREFIX = "jvfio-demo: read: ";
    private static final String INTERRUPTS_MARKER = "jvfio-demo: interrupts";

    /** Debian builds virtio as modules, so /init loads them; the UART's 8250_pnp is built in. */
    private static final List<String> MODULES =
            KernelImages.virtioModules("kernel/drivers/char/hw_random/virtio-rng.ko");
    /**
     * The driver core's debug messages (dynamic debug, on in Debian's kernels) put each binding in the
     * kernel log, which virtio_mmio itself does not; {@code quiet} keeps them off the console, where every
     * byte is a port exit.
     */
    private static final String APPEND =
            "console=ttyS0 earlyprintk=serial quiet panic=-1 dyndbg=\"file drivers/base/dd.c +p\"";

    /**
     * One read(2) of 64 bytes from /dev/hwrng: rng-core fills it with one call into the driver under its
     * reading lock, so the bytes are one run of the device's stream. The UART's port stays open from the
     * exchange to the read of /proc/interrupts: closing a tty frees its IRQ, and its line would go with it.
     * The host's answer arrives only after the guest's whole line went out, so no transmitter interrupt
     * comes after /proc/interrupts is read.
     */
    private static final String INIT = """
            #!/bin/busybox sh
            b=/bin/busybox
            $b mount -t devtmpfs dev /dev
            $b mount -t proc proc /proc
            $b mkdir -p /sys
            $b mount -t sysfs sys /sys
            echo "<2>%1$s" > /dev/kmsg
            {
              echo "%2$s"
              for m in virtio_ring virtio virtio_mmio virtio-rng; do
                $b insmod /modules/$m.ko || echo "jvfio-demo: insmod $m failed"
              done
              tries=0
              until [ "$($b cat /sys/class/misc/hw_random/rng_current 2>/dev/null)" != "none" ] || [ $tries -ge 60 ]; do
                $b sleep 1; tries=$((tries + 1))
              done
              echo "jvfio-demo: rng_current: $($b cat /sys/class/misc/hw_random/rng_current)"
              if $b dd if=/dev/hwrng of=/rng.bin bs=%3$d count=1 2>/dev/null; then
                echo "%4$s$($b hexdump -v -e '1/1 "%%02x"' /rng.bin)"
              else
                echo "jvfio-demo: reading /dev/hwrng failed"
              fi
              tty=$($b dmesg | $b grep -o 'ttyS[0-9]* at MMIO' | $b head -n 1 | $b cut -d' ' -f1)
              if [ -n "$tty" ]; then
                exec 3<>/dev/$tty
                $b stty -F /dev/$tty 115200 -echo
                echo "%5$s" >&3
                if read -t 120 reply <&3; then echo "%6$s$reply"; else echo "jvfio-demo: read nothing"; fi
              fi
              $b dmesg | $b grep -E "ttyS[0-9]+ at MMIO|driver: '(serial|virtio-mmio|virtio_rng)': .*bound to device"
              echo "%7$s"
              $b grep IO-APIC /proc/interrupts
              echo "%8$s"
            } > /dev/ttyS0 2>&1
            $b poweroff -f
            """.formatted(
                    INIT_MARKER,
                    REPORT_MARKER,
                    HWRNG_BYTES,
                    HWRNG_PREFIX,
                    GUEST_LINE,
                    READ_PREFIX,
                    INTERRUPTS_MARKER,
                    END_MARKER);

    private static final Pattern UART_BOUND =
            Pattern.compile("(ttyS\\d+) at MMIO 0x([0-9a-f]+) \\(irq = \\d+, base_baud = \\d+\\) is a 16550A");
    private static final Pattern VIRTIO_MMIO_BOUND =
            Pattern.compile("driver: 'virtio-mmio': \\w+: bound to device 'LNRO0005:\\d+'");
    private static final Pattern VIRTIO_RNG_BOUND =
            Pattern.compile("driver: 'virtio_rng': \\w+: bound to device 'virtio\\d+'");
    /** A line of /proc/interrupts for a level IOAPIC pin: Linux's number, a count per CPU, the pin, the name. */
    private static final Pattern PROC_INTERRUPT =
            Pattern.compile(" *\\d+:((?: +\\d+)+) +IO-APIC +(\\d+)-fasteoi +(\\S+).*");

    private static final long RAM_MIB = RunCommand.DEFAULT_KERNEL_RAM_MIB;
    private static final Duration GUEST_TIMEOUT = Duration.ofMinutes(5);
    /** A freshly started JVM under software emulation answers its first requests slowly. */
    private static final String REPLY_TIMEOUT = ",x-reply-timeout-ms=60000";

    private static final Path KVM = Path.of("/dev/kvm");

    private LinuxDemo() {}

    /** What was assigned and what jvfio counted on one device's IRQ, kept from the machine before it closed. */
    record AssignedIrq(
            String device, long guestBase, int gsi, IrqPath path, Optional<IrqController.IrqCounters> counters) {}

    /**
     * One boot: the guest's exit, its console, the devices as assigned; or, for a guest that failed before
     * its /init ran, why.
     */
    record Boot(int exitCode, String console, List<AssignedIrq> irqs, double seconds, String failure) {}

    static int run(MachineProperties machine, PrintWriter out) throws IOException, InterruptedException {
        if (!Files.exists(KVM)) {
            throw new IOException("no /dev/kvm: the demo needs KVM");
        }
        if (!GuestCodeProbe.runsInt3()) {
            throw new IOException("this /dev/kvm cannot boot a stock Linux kernel (its guests cannot run int3: a"
                    + " software KVM such as kvm_pvm); ./jvfio demo --linux runs it in a nested guest instead");
        }
        Path vmlinuz = KernelImages.preparedBzImage()
                .orElseThrow(() -> new IOException(
                        "no stock kernel: tools/nested/prepare.sh fetches Debian's (into $JVFIO_NESTED_CACHE, default"
                                + " ~/.cache/jvfio-nested)"));
        if (!BusyboxInitramfs.available()) {
            throw new IOException("no " + BusyboxInitramfs.BUSYBOX + ": apt-get install busybox-static");
        }
        Map<String, byte[]> modules = new LinkedHashMap<>();
        for (String module : MODULES) {
            byte[] bytes = KernelImages.module(vmlinuz, module)
                    .orElseThrow(() -> new IOException("the prepared kernel has no module " + module + " under "
                            + KernelImages.moduleTree(vmlinuz)));
            modules.put("modules/" + Path.of(module).getFileName(), bytes);
        }
        LinuxKernel kernel =
                new LinuxKernel(Files.readAllBytes(vmlinuz), BusyboxInitramfs.withInit(INIT, modules), APPEND);
        LinuxBoot.check(kernel, RAM_MIB << 20);

        long demoStart = System.nanoTime();
        Path directory = Files.createTempDirectory("jvfio-demo");
        Path uartSocket = directory.resolve("ns16550a.sock");
        Path serialSocket = directory.resolve("serial.sock");
        Path rngSocket = directory.resolve("virtio-rng.sock");
        try (ServerProcess uart = ServeCommand.startChild(
                        "ns16550a",
                        uartSocket,
                        Duration.ofMinutes(2),
                        List.of(),
                        "--serial-socket",
                        serialSocket.toString());
                ServerProcess rng = ServeCommand.startChild(
                        "virtio-rng", rngSocket, Duration.ofMinutes(2), List.of(), "--seed", Long.toString(SEED));
                SerialHostEnd host = SerialHostEnd.connect(serialSocket, GUEST_LINE, HOST_LINE)) {
            IrqchipSelection irqchip = IrqchipSelection.forHost(machine.irqchip());
            out.printf(
                    "jvfio demo --linux: Debian's stock kernel (%s) with a busybox /init, and assigned to it:%n",
                    vmlinuz);
            out.printf(
                    "  ns16550a: a 16550A UART served by a child process (jvfio serve ns16550a, pid %d), its serial"
                            + " line's host end at %s%n",
                    uart.pid(), serialSocket);
            out.printf(
                    "  virtio-rng: a virtio entropy device served by a child process (jvfio serve virtio-rng --seed %d,"
                            + " pid %d)%n",
                    SEED, rng.pid());
            out.printf(
                    "  irqchip: %s (%s)%n",
                    irqchip.inKernel()
                            ? "KVM's in-kernel IOAPIC and LAPIC"
                            : "jvfio's own IOAPIC and LAPIC, interrupts injected with KVM_INTERRUPT",
                    irqchip);
            out.println("booting (a minute or two in the nested guest, where everything is emulated) ...");
            out.flush();

            List<String> devices = List.of(
                    "vfio-platform,id=ns16550a,socket=" + escaped(uartSocket) + REPLY_TIMEOUT,
                    "vfio-platform,id=virtio-rng,socket=" + escaped(rngSocket) + REPLY_TIMEOUT);
            Boot boot = boot(kernel, devices, machine);
            int clients = 1;
            if (diedBeforeInit(boot)) {
                out.println("the guest died before its /init ran: booting it once more (the nested guest's emulated"
                        + " KVM has failed so now and then)");
                out.flush();
                boot = boot(kernel, devices, machine);
                clients = 2;
                if (diedBeforeInit(boot)) {
                    throw new IOException("the guest died before its /init ran, twice: " + boot.failure());
                }
            }
            Map<String, Long> uartCounters = uart.awaitClientLeft(clients, Duration.ofSeconds(60));
            Map<String, Long> rngCounters = rng.awaitClientLeft(clients, Duration.ofSeconds(60));
            List<String> problems = report(out, boot, host.received(), uartCounters, rngCounters);
            return DemoCommand.verdict(out, demoStart, problems, "guest, jvfio, device processes");
        } finally {
            for (Path socket : List.of(uartSocket, serialSocket, rngSocket)) {
                Files.deleteIfExists(socket);
            }
            Files.deleteIfExists(directory);
        }
    }

    /** A path as a device property's value: a comma is doubled, as QEMU escapes it. */
    private static String escaped(Path path) {
        return path.toString().replace(",", ",,");
    }

    private static Boot boot(LinuxKernel kernel, List<String> devices, MachineProperties machine)
            throws IOException, InterruptedException {
        MachineConfig config = machine.applyTo(
                        MachineConfig.builder().ramSize(RAM_MIB << 20).kernel(kernel))
                .build();
        try (AssignedMachine assignment = AssignedMachine.create(
                config, devices.stream().map(DeviceSpecParser::parse).toList())) {
            long started = System.nanoTime();
            assignment.machine().start();
            int code;
            try {
                code = assignment.machine().awaitExit(GUEST_TIMEOUT);
            } catch (GuestFailedException e) {
                String console = assignment.machine().console();
                if (!console.contains(INIT_MARKER)) {
                    return new Boot(-1, console, List.of(), 0, e.reason());
                }
                throw new IOException("the guest failed: " + e.reason());
            } catch (TimeoutException e) {
                throw new IOException("the guest did not power off within " + GUEST_TIMEOUT.toMinutes() + " min");
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            List<AssignedIrq> irqs = new ArrayList<>();
            for (VfioPlatformDevice device : assignment.devices()) {
                for (VfioPlatformDevice.WiredIrq irq : device.irqs()) {
                    irqs.add(new AssignedIrq(
                            device.name(),
                            device.regions().getFirst().guestBase(),
                            irq.gsi(),
                            irq.path(),
                            device.irqController()
                                    .map(c -> c.counters(irq.info().index()))));
                }
            }
            return new Boot(code, assignment.machine().console(), irqs, seconds, "");
        }
    }

    private static boolean diedBeforeInit(Boot boot) {
        return !boot.failure().isEmpty();
    }

    /** Prints what the boot showed and returns what does not add up, as short phrases. */
    static List<String> report(
            PrintWriter out, Boot boot, String hostReceived, Map<String, Long> uart, Map<String, Long> rng) {
        List<String> problems = new ArrayList<>();
        if (boot.exitCode() != 0) {
            problems.add("the guest ended with " + boot.exitCode() + ", not an ACPI power-off");
        }
        String console = boot.console();
        int from = console.indexOf(REPORT_MARKER);
        if (from < 0 || !console.contains(END_MARKER)) {
            problems.add("the guest's /init did not report (its console: " + tail(console) + ")");
            return problems;
        }
        List<String> lines = console.substring(from, console.indexOf(END_MARKER, from))
                .lines()
                .map(String::stripTrailing)
                .toList();
        out.printf(
                Locale.ROOT, "%nthe guest powered off after %.1f s. Its kernel log on the bindings:%n", boot.seconds());
        lines.stream()
                .filter(line -> UART_BOUND.matcher(line).find()
                        || line.contains(" bound to device ")
                        || line.contains("insmod")
                        || line.contains("rng_current"))
                .forEach(line -> out.println("  guest: " + line));
        AssignedIrq uartIrq = irqOf(boot, "ns16550a");
        AssignedIrq rngIrq = irqOf(boot, "virtio-rng");
        String tty = null;
        Matcher uartBound = lines.stream()
                .map(UART_BOUND::matcher)
                .filter(Matcher::find)
                .findFirst()
                .orElse(null);
        if (uartBound == null) {
            problems.add("8250 did not bind the UART (no 'ttyS. at MMIO' in the kernel log)");
        } else {
            tty = uartBound.group(1);
            if (uartIrq != null && Long.parseUnsignedLong(uartBound.group(2), 16) != uartIrq.guestBase()) {
                problems.add(tty + " is at 0x" + uartBound.group(2) + ", not at the UART's 0x"
                        + Long.toHexString(uartIrq.guestBase()));
            }
        }
        if (lines.stream().noneMatch(line -> VIRTIO_MMIO_BOUND.matcher(line).find())) {
            problems.add("virtio_mmio did not bind LNRO0005");
        }
        if (lines.stream().noneMatch(line -> VIRTIO_RNG_BOUND.matcher(line).find())) {
            problems.add("virtio_rng did not bind the virtio device");
        }

        String sent = hostReceived
                .lines()
                .map(String::strip)
                .filter(line -> line.contains(GUEST_LINE))
                .findFirst()
                .orElse(null);
        String read = lines.stream()
                .filter(line -> line.startsWith(READ_PREFIX))
                .map(line -> line.substring(READ_PREFIX.length()).strip())
                .findFirst()
                .orElse(null);
        out.println();
        out.printf(
                "%s, guest to host: %s%n",
                tty == null ? "ttyS?" : tty,
                sent == null ? "nothing reached the serial socket" : "\"" + sent + "\" read at the serial socket");
        out.printf(
                "%s, host to guest: %s%n",
                tty == null ? "ttyS?" : tty,
                read == null ? "the guest read nothing" : "\"" + read + "\" read by the guest");
        if (sent == null) {
            problems.add("the guest's line did not reach the serial socket");
        }
        if (!HOST_LINE.equals(read)) {
            problems.add("the guest did not read the host's line");
        }

        long served = rng.getOrDefault("queue0.bytes", 0L);
        Optional<byte[]> hwrng = lines.stream()
                .filter(line -> line.startsWith(HWRNG_PREFIX))
                .map(line -> line.substring(HWRNG_PREFIX.length()).strip())
                .filter(hex -> hex.length() == 2 * HWRNG_BYTES)
                .map(hex -> HexFormat.of().parseHex(hex))
                .findFirst();
        if (hwrng.isEmpty()) {
            out.println("/dev/hwrng: the guest read no " + HWRNG_BYTES + " bytes");
            problems.add("no bytes from /dev/hwrng");
        } else {
            int offset = offsetInSeededStream(SEED, hwrng.get(), served);
            out.printf(
                    "/dev/hwrng: %s..., %d bytes %s%n",
                    HexFormat.of().formatHex(hwrng.get(), 0, 16),
                    HWRNG_BYTES,
                    offset < 0
                            ? "that are not in the stream --seed " + SEED + " defines"
                            : "at offset " + offset + " of the stream --seed " + SEED + " defines");
            if (offset < 0) {
                problems.add("the bytes from /dev/hwrng are not the seeded stream's");
            }
        }

        Map<Integer, Long> guestCounts = new LinkedHashMap<>();
        Map<Integer, String> guestNames = new LinkedHashMap<>();
        boolean inInterrupts = false;
        for (String line : lines) {
            if (line.equals(INTERRUPTS_MARKER)) {
                inInterrupts = true;
                continue;
            }
            Matcher m = PROC_INTERRUPT.matcher(line);
            if (inInterrupts && m.matches()) {
                long taken = Arrays.stream(m.group(1).trim().split(" +"))
                        .mapToLong(Long::parseLong)
                        .sum();
                guestCounts.put(Integer.parseInt(m.group(2)), taken);
                guestNames.put(Integer.parseInt(m.group(2)), m.group(3));
            }
        }
        out.println();
        out.printf(
                "%-12s %4s  %-24s  %-22s  %s%n",
                "interrupts", "GSI", "guest /proc/interrupts", "device signals (raises)", "jvfio");
        for (AssignedIrq irq : List.of(uartIrq, rngIrq)) {
            if (irq == null) {
                problems.add("a device has no IRQ");
                continue;
            }
            Map<String, Long> device = irq.device().equals("ns16550a") ? uart : rng;
            long signals = device.getOrDefault("line0.signals", 0L);
            long raises = device.getOrDefault("line0.raises", 0L);
            Long taken = guestCounts.get(irq.gsi());
            out.printf(
                    Locale.ROOT,
                    "  %-10s %4d  %-24s  %-22s  %s%n",
                    irq.device(),
                    irq.gsi(),
                    taken == null ? "missing" : guestNames.get(irq.gsi()) + " " + taken,
                    signals + " (" + raises + ")",
                    jvfioCounts(irq));
            problems.addAll(checkIrq(irq, taken == null ? -1 : taken, signals));
        }
        out.println("  (a level line signals its eventfd once, then stays masked until it is unmasked after the guest"
                + " handled it: the device's raises in between are not signals)");
        if (uartIrq != null && uartIrq.path() != IrqPath.IRQFD) {
            out.println("  (on the user side jvfio ends the 16550A's IRQ at the handler's first register access, as the"
                    + " seed does: the line, still asserted, fires again while the handler runs, and the guest may"
                    + " take the two as one)");
        }

        long buffers = rng.getOrDefault("queue0.buffers", 0L);
        out.printf(
                Locale.ROOT,
                "%nDMA (virtio-rng): the device used %d buffers of its virtqueue and wrote %d bytes of entropy into"
                        + " them, in guest RAM, which jvfio mapped for it as one DMA window (the RAM's memfd): its DMA"
                        + " reads and writes do not pass through jvfio; the guest's read took %d of those bytes%n",
                buffers,
                served,
                hwrng.isPresent() ? HWRNG_BYTES : 0);
        if (buffers < 1 || served < HWRNG_BYTES) {
            problems.add(
                    "the device served " + served + " bytes in " + buffers + " buffers, fewer than /dev/hwrng gave");
        }
        if (rng.getOrDefault("device.needs-reset", 0L) != 0) {
            problems.add("the virtio device needed a reset");
        }
        return problems;
    }

    private static AssignedIrq irqOf(Boot boot, String device) {
        return boot.irqs().stream()
                .filter(irq -> irq.device().equals(device))
                .findFirst()
                .orElse(null);
    }

    /** What jvfio counted on the IRQ's path: nothing of its own on KVM's irqfd path. */
    private static String jvfioCounts(AssignedIrq irq) {
        if (irq.path() == IrqPath.IRQFD || irq.counters().isEmpty()) {
            return "KVM irqfd: delivered and ended inside KVM, nothing for jvfio to count";
        }
        IrqController.IrqCounters c = irq.counters().get();
        return String.format(
                Locale.ROOT,
                "user side: %d triggers, %d injections, %d EOIs, %d unmasks",
                c.triggers(),
                c.injections(),
                c.eois(),
                c.unmasks());
    }

    /**
     * A level line masks itself at each signal until it is unmasked, so no two signals share a read of its
     * eventfd. On the irqfd path the resamplefd unmasks at the guest's EOI: one signal, one interrupt. On the
     * user side jvfio reads, injects, ends and unmasks each signal; where it ends the IRQ at the handler's
     * first register access (the 16550A, which has no ack register to declare), the line, still asserted,
     * fires again while the handler runs, and the guest takes the two as one: there it can only count fewer.
     */
    static List<String> checkIrq(AssignedIrq irq, long taken, long signals) {
        String what = irq.device() + " (GSI " + irq.gsi() + "): ";
        if (taken < 0) {
            return List.of(what + "not in the guest's /proc/interrupts");
        }
        if (taken == 0) {
            return List.of(what + "the guest took no interrupts");
        }
        if (irq.path() == IrqPath.IRQFD || irq.counters().isEmpty()) {
            return taken == signals
                    ? List.of()
                    : List.of(what + "the guest took " + taken + " interrupts, the device signalled " + signals);
        }
        IrqController.IrqCounters c = irq.counters().get();
        List<String> problems = new ArrayList<>();
        long[] jvfio = {c.triggers(), c.injections(), c.eois(), c.unmasks()};
        if (Arrays.stream(jvfio).anyMatch(count -> count != signals)) {
            problems.add(what + "jvfio's triggers, injections, EOIs, unmasks " + Arrays.toString(jvfio)
                    + " are not the device's " + signals + " signals");
        }
        if (taken > c.injections()) {
            problems.add(what + "the guest took " + taken + " interrupts, jvfio injected " + c.injections());
        }
        return problems;
    }

    /**
     * Where {@code read} starts in the first {@code served} bytes of the stream {@code --seed seed} defines
     * (docs/devices/virtio-rng.md: the little-endian bytes of {@code java.util.Random(seed).nextLong()}s); -1
     * if nowhere. rng-core takes up to 32 bytes when the device registers and 64 at a time after, so the
     * read starts at a multiple of 32.
     */
    static int offsetInSeededStream(long seed, byte[] read, long served) {
        Random random = new Random(seed);
        int length = (int) Math.min(Math.max(served, read.length), 1 << 20);
        ByteBuffer stream = ByteBuffer.allocate((length + 7) / 8 * 8).order(ByteOrder.LITTLE_ENDIAN);
        while (stream.hasRemaining()) {
            stream.putLong(random.nextLong());
        }
        byte[] bytes = stream.array();
        for (int offset = 0; offset + read.length <= length; offset += 32) {
            if (Arrays.equals(bytes, offset, offset + read.length, read, 0, read.length)) {
                return offset;
            }
        }
        return -1;
    }

    /** The console's last lines, for a report that never came. */
    private static String tail(String console) {
        List<String> lines = console.strip().lines().toList();
        return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    }
}
