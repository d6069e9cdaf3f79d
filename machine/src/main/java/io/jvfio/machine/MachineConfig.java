package io.jvfio.machine;

import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.boot.linux.LinuxKernel;
import io.jvfio.machine.irqchip.IrqchipMode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link Machine} is made of: RAM size (default 64 MiB), vCPU count (default 1), the guest: either
 * an ELF image of jvfio's guest contract with up to 8 guest args and the devices its boot info lists, or a
 * Linux kernel ({@code kernel}, null for an ELF guest), where console output is echoed (null: nowhere), the
 * irqchip ({@code kernel-irqchip}, default auto), the console device (default a 16550A) and what the
 * console receives (null: nothing; the machine reads it from start to its end or the machine's close, and
 * does not close it), and whether jvfio's irqchip may take the guest's EOIs queued in KVM's coalesced MMIO
 * ring instead of as exits ({@code x-coalesced-eoi}, default off; it applies with one vCPU only).
 */
public record MachineConfig(
        long ramSize,
        int vcpus,
        byte[] guestImage,
        long[] args,
        List<BootInfo.Device> devices,
        PrintStream consoleEcho,
        IrqchipMode irqchip,
        ConsoleDevice console,
        InputStream consoleInput,
        LinuxKernel kernel,
        boolean coalescedEoi) {
    public static final long DEFAULT_RAM_SIZE = 64L << 20;
    private static final String GUESTS_MODULE = "io.jvfio.guests";
    /** RAM stays below the 32-bit MMIO hole (platform window, IOAPIC, LAPIC, KVM's TSS pages). */
    public static final long MAX_RAM_SIZE = 0xC000_0000L;

    public MachineConfig {
        if (ramSize < (2L << 20) || ramSize > MAX_RAM_SIZE || ramSize % GuestRam.PAGE_SIZE != 0) {
            throw new IllegalArgumentException(
                    "RAM size must be a multiple of 4096 between 2 MiB and 3 GiB, got " + ramSize);
        }
        if (vcpus < 1 || vcpus > 64) {
            throw new IllegalArgumentException("vCPU count must be 1..64, got " + vcpus);
        }
        if ((guestImage == null) == (kernel == null)) {
            throw new IllegalArgumentException(
                    kernel == null ? "no guest image" : "both a guest image and a Linux kernel");
        }
        if (args.length > BootInfo.MAX_ARGS) {
            throw new IllegalArgumentException("at most 8 guest args, got " + args.length);
        }
        if (kernel != null && args.length > 0) {
            throw new IllegalArgumentException(
                    "guest args go to an ELF guest's boot info; a Linux kernel takes a command line");
        }
        guestImage = guestImage == null ? null : guestImage.clone();
        args = args.clone();
        devices = List.copyOf(devices);
        Objects.requireNonNull(irqchip, "irqchip");
        Objects.requireNonNull(console, "console");
        if (consoleInput != null && console != ConsoleDevice.UART_16550) {
            throw new IllegalArgumentException(
                    "console input needs the 16550A console; " + console + " has no receiver");
        }
    }

    /** The ELF guest's image, or null for a Linux kernel. */
    @Override
    public byte[] guestImage() {
        return guestImage == null ? null : guestImage.clone();
    }

    @Override
    public long[] args() {
        return args.clone();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads the guest {@code guests/NAME.elf} from the jvfio-guests jar, on the module path (module
     * io.jvfio.guests, whose packages are open) or the class path. The module's own reader comes first: the
     * class loader would make a jar: URL and open a connection to it, which cost a command's start-up
     * several milliseconds of class loading.
     */
    public static byte[] guestResource(String name) throws IOException {
        String path = "guests/" + name + ".elf";
        Optional<Module> guests = ModuleLayer.boot().findModule(GUESTS_MODULE);
        try (InputStream in = guests.isPresent()
                ? guests.get().getResourceAsStream(path)
                : MachineConfig.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("guest image " + path + " is neither on the class path nor the module path"
                        + " (is jvfio-guests?)");
            }
            return in.readAllBytes();
        }
    }

    public static final class Builder {
        private long ramSize = DEFAULT_RAM_SIZE;
        private int vcpus = 1;
        private byte[] guestImage;
        private long[] args = new long[0];
        private final List<BootInfo.Device> devices = new ArrayList<>();
        private PrintStream consoleEcho;
        private IrqchipMode irqchip = IrqchipMode.AUTO;
        private ConsoleDevice console = ConsoleDevice.UART_16550;
        private InputStream consoleInput;
        private LinuxKernel kernel;
        private boolean coalescedEoi;

        public Builder ramSize(long bytes) {
            this.ramSize = bytes;
            return this;
        }

        public Builder vcpus(int count) {
            this.vcpus = count;
            return this;
        }

        public Builder guest(byte[] elfImage) {
            this.guestImage = elfImage;
            return this;
        }

        /** The guest image {@code guests/NAME.elf} of the jvfio-guests jar. */
        public Builder guest(String name) throws IOException {
            return guest(guestResource(name));
        }

        public Builder args(long... values) {
            this.args = values.clone();
            return this;
        }

        public Builder device(BootInfo.Device device) {
            devices.add(device);
            return this;
        }

        public Builder consoleEcho(PrintStream echo) {
            this.consoleEcho = echo;
            return this;
        }

        /** QEMU's {@code kernel-irqchip}: on, off, split (refused at create) or auto. */
        public Builder irqchip(IrqchipMode mode) {
            this.irqchip = mode;
            return this;
        }

        /** What answers at COM1; {@link ConsoleDevice#UART_16550} by default. */
        public Builder console(ConsoleDevice device) {
            this.console = device;
            return this;
        }

        /** Bytes for the guest's console (stdin, say), delivered no faster than the guest reads them. */
        public Builder consoleInput(InputStream input) {
            this.consoleInput = input;
            return this;
        }

        /** Boots Linux instead of an ELF guest. */
        public Builder kernel(LinuxKernel linux) {
            this.kernel = linux;
            return this;
        }

        /**
         * {@code x-coalesced-eoi}: on jvfio's irqchip with one vCPU, the guest's EOI writes are queued by KVM
         * instead of exiting; off (the default) makes each an exit. Off by default: the saved exit did not
         * move the interrupt benchmarks beyond their noise, while a guest that runs on without exits after
         * its EOI waits up to the 1 ms drain timer for what the EOI releases (bench/RESULTS.md).
         */
        public Builder coalescedEoi(boolean on) {
            this.coalescedEoi = on;
            return this;
        }

        public MachineConfig build() {
            return new MachineConfig(
                    ramSize,
                    vcpus,
                    guestImage,
                    args,
                    devices,
                    consoleEcho,
                    irqchip,
                    console,
                    consoleInput,
                    kernel,
                    coalescedEoi);
        }
    }
}
