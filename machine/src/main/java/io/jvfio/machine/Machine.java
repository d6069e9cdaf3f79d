package io.jvfio.machine;

import io.jvfio.chips.serial.SerialInputPump;
import io.jvfio.chips.serial.Uart16550;
import io.jvfio.kvm.Cap;
import io.jvfio.kvm.CoalescedMmioZone;
import io.jvfio.kvm.IrqWindowProbe;
import io.jvfio.kvm.Kvm;
import io.jvfio.kvm.MissingCapabilityException;
import io.jvfio.kvm.Vcpu;
import io.jvfio.kvm.VcpuExit;
import io.jvfio.kvm.Vm;
import io.jvfio.machine.acpi.AcpiConfig;
import io.jvfio.machine.acpi.AcpiDevice;
import io.jvfio.machine.acpi.AcpiTables;
import io.jvfio.machine.acpi.HardwareId;
import io.jvfio.machine.acpi.ResourceDescriptor;
import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.boot.ElfImage;
import io.jvfio.machine.boot.LongMode;
import io.jvfio.machine.boot.linux.KernelEntry;
import io.jvfio.machine.boot.linux.LinuxBoot;
import io.jvfio.machine.boot.linux.MemoryMap;
import io.jvfio.machine.bus.Bus;
import io.jvfio.machine.bus.BusDevice;
import io.jvfio.machine.bus.MmioDevice;
import io.jvfio.machine.bus.PioDevice;
import io.jvfio.machine.irqchip.EoiRegistration;
import io.jvfio.machine.irqchip.IrqchipCounters;
import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.machine.irqchip.UserIrqchip;
import io.jvfio.machine.serial.UartPortDevice;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.event.EventLoop;
import io.jvfio.sys.kvm.vcpu.CpuidEntry;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Sregs;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntUnaryOperator;

/**
 * A minimal x86-64 KVM machine: memfd-backed RAM at 0, an irqchip (KVM's in-kernel one with GSI n routed
 * to IOAPIC pin n, or jvfio's own, {@link UserIrqchip}: see {@link IrqchipSelection}), MMIO and port
 * buses, the guest ports (the console, a 16550A at 0x3F8 on IRQ 4 unless {@link ConsoleDevice} says
 * otherwise; exit 0x501; report 0x502), an event loop, a platform-bus allocator, and one thread per vCPU.
 * An ELF64 guest is entered in long mode (see {@link LongMode}) with RDI pointing at the boot info; a Linux
 * kernel as {@link LinuxBoot} says.
 *
 * <p>Use: {@link #create}, attach devices (buses, {@link #addDevice}, {@link #addSwitchableRegion},
 * irqfds on {@link #irqLine}), {@link #start}, {@link #awaitExit}, then {@link #close}, which stops the
 * console input, the vCPU threads and the event loop, deletes the memory slots, closes the VM, unmaps RAM
 * and closes /dev/kvm. Memory given to {@link #addSwitchableRegion} belongs to the caller and is closed after.
 */
public final class Machine implements AutoCloseable {
    /** KVM's TSS (3 pages) and identity-map page: above the LAPIC, below the 4 GiB boundary. */
    public static final long TSS_ADDRESS = 0xFFFB_D000L;

    public static final long IDENTITY_MAP_ADDRESS = 0xFFFB_C000L;
    private static final long KVM_TSS_SIZE = 3 * 4096;
    public static final int RAM_SLOT = 0;
    private static final System.Logger LOG = System.getLogger(Machine.class.getName());
    /** How long {@link #close} waits for the vCPU threads before it says what holds them, and how often after. */
    private static final long CLOSE_WAIT_SAID_AFTER_NANOS = TimeUnit.SECONDS.toNanos(5);

    private static final long CLOSE_WAIT_SAID_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** Auto's choice of jvfio's irqchip is said once per process, not once per machine. */
    private static final AtomicBoolean AUTO_OFF_REPORTED = new AtomicBoolean();

    private static final AtomicBoolean TSC_UNKNOWN_REPORTED = new AtomicBoolean();

    private final MachineConfig config;
    private final Bus mmio = new Bus("mmio");
    private final Bus pio = new Bus("pio");
    private final GuestPorts ports;
    private final List<ExitDispatcher> dispatchers = new ArrayList<>();
    private final PlatformBus platformBus = new PlatformBus();
    private final List<BootInfo.Device> devices;
    private final List<AcpiDevice> addedAcpiDevices = new ArrayList<>();
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final CompletableFuture<MachineExit> outcome = new CompletableFuture<>();
    private final VcpuStates vcpuStates;
    private Kvm kvm;
    private Vm vm;
    /** KVM's in-kernel irqchip with irqfd and resamplefd: lines take irqfds ({@link IrqLine#acceptsIrqfd}). */
    private boolean irqfdAccepted;
    /** KVM_CAP_IOEVENTFD: guest writes can signal eventfds inside KVM ({@link #registerMmioEventfd}). */
    private boolean ioeventfdAccepted;
    /** KVM_CAP_READONLY_MEM: a memory slot can take reads while writes exit as MMIO. */
    private boolean readOnlyMemoryAccepted;

    private final IrqLine.IrqfdTarget vmIrqfds = new IrqLine.IrqfdTarget() {
        @Override
        public void registerIrqfd(int gsi, EventFd trigger, Optional<EventFd> resample) throws ErrnoException {
            if (resample.isPresent()) {
                vm.registerIrqfd(trigger, gsi, resample.get());
            } else {
                vm.registerIrqfd(trigger, gsi);
            }
        }

        @Override
        public void unregisterIrqfd(int gsi, EventFd trigger) throws ErrnoException {
            vm.unregisterIrqfd(trigger, gsi);
        }
    };
    private GuestRam ram;
    private EventLoop eventLoop;
    private IrqchipSelection irqchip;
    private UserIrqchip userIrqchip;
    /** The coalesced MMIO zone over jvfio's LAPIC EOI register, or null: every EOI exits. */
    private CoalescedMmioZone eoiZone;

    private Uart16550 consoleUart;
    private SerialInputPump consoleInput;
    private MemorySlotNumbers slotNumbers;
    private boolean started;
    private boolean closed;
    private volatile boolean stopping;

    private Machine(MachineConfig config) {
        this.config = config;
        this.ports = new GuestPorts(config.consoleEcho());
        this.devices = new ArrayList<>(config.devices());
        this.vcpuStates = new VcpuStates(config.vcpus());
    }

    /** Opens KVM and builds the machine (nothing runs until {@link #start}). */
    public static Machine create(MachineConfig config) throws IOException {
        Machine machine = new Machine(config);
        try {
            machine.build();
            return machine;
        } catch (IOException | RuntimeException | Error e) {
            // An Error too (a thread that cannot start, the heap gone): the VM, its vCPUs and RAM are
            // freed only here.
            machine.close();
            throw e;
        }
    }

    private void build() throws IOException {
        kvm = Kvm.open();
        irqchip = IrqchipSelection.choose(config.irqchip(), kvm);
        if (irqchip.requested() == IrqchipMode.AUTO
                && !irqchip.inKernel()
                && AUTO_OFF_REPORTED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, irqchip.autoOffLine());
        }
        boolean inKernel = irqchip.inKernel();
        List<Cap> required = new ArrayList<>(List.of(Cap.USER_MEMORY, Cap.SET_TSS_ADDR));
        if (inKernel) {
            required.addAll(List.of(Cap.IRQCHIP, Cap.IRQ_ROUTING));
        }
        for (Cap cap : required) {
            if (!kvm.hasCapability(cap)) {
                throw new MissingCapabilityException(
                        cap, inKernel ? "for a machine with KVM's in-kernel irqchip" : "for any machine");
            }
        }
        ram = GuestRam.create(config.ramSize());
        vm = kvm.createVm();
        vm.setTssAddress(TSS_ADDRESS);
        vm.setIdentityMapAddress(IDENTITY_MAP_ADDRESS);
        if (inKernel) {
            vm.createIrqchip();
            vm.routeGsisToIoapicPins();
            irqfdAccepted = vm.hasCapability(Cap.IRQFD) && vm.hasCapability(Cap.IRQFD_RESAMPLE);
        }
        ioeventfdAccepted = vm.hasCapability(Cap.IOEVENTFD);
        readOnlyMemoryAccepted = vm.hasCapability(Cap.READONLY_MEM);
        slotNumbers = new MemorySlotNumbers(vm.memorySlotLimit(), RAM_SLOT);
        vm.addMemorySlot(RAM_SLOT, 0, ram.mapping());
        pio.add("report", GuestPorts.REPORT_PORT, 1, ports.report());
        for (int id = 0; id < config.vcpus(); id++) {
            vcpus.add(vm.createVcpu(id));
        }
        List<CpuidEntry> cpuid =
                HypervisorCpuid.withKvmLeaves(CpuidMask.apply(kvm.supportedCpuid()), tscKhz(vcpus.getFirst()));
        if (!inKernel) {
            cpuid = CpuidMask.forUserspaceIrqchip(cpuid);
        }
        for (Vcpu vcpu : vcpus) {
            vcpu.setCpuid(withApicId(cpuid, vcpu.id()));
        }
        eventLoop = EventLoop.start("jvfio-event-loop");
        if (inKernel) {
            for (int id = 0; id < config.vcpus(); id++) {
                dispatchers.add(new ExitDispatcher(pio, mmio));
            }
        } else {
            userIrqchip = new UserIrqchip(
                    config.vcpus(),
                    new EventLoopClock(eventLoop, "a LAPIC timer"),
                    id -> vcpus.get(id).kick(),
                    !IrqWindowProbe.host().prompt());
            mmio.add("ioapic", UserIrqchip.ioApicBase(), UserIrqchip.ioApicSize(), userIrqchip.ioApicDevice());
            // KVM's in-kernel irqchip brings the 8259 PICs, which guests mask at start; jvfio's has none,
            // and their ports answer as empty ISA ports do, without the bus's log of a stray access.
            for (int picBase : new int[] {0x20, 0xA0}) {
                pio.add("8259-absent", picBase, 2, ABSENT_PIC);
            }
            for (int id = 0; id < config.vcpus(); id++) {
                int vcpu = id;
                dispatchers.add(new ExitDispatcher(
                        pio, mmio, UserIrqchip.localApicBase(), UserIrqchip.localApicSize(), new MmioDevice() {
                            @Override
                            public long read(long offset, int size) {
                                return userIrqchip.readLocalApic(vcpu, offset, size);
                            }

                            @Override
                            public void write(long offset, int size, long value) {
                                userIrqchip.writeLocalApic(vcpu, offset, size, value);
                            }
                        }));
            }
            if (config.coalescedEoi() && config.vcpus() == 1) {
                queueEndsOfInterrupt();
            }
        }
        addConsole();
    }

    /**
     * The guest's EOI writes to jvfio's LAPIC are queued by KVM in its coalesced MMIO ring instead of
     * exiting (one exit fewer per interrupt); {@link UserIrqchip} drains the ring. Its entries name no
     * vCPU, hence one vCPU only. Where KVM has no ring every EOI exits as before.
     */
    private void queueEndsOfInterrupt() throws ErrnoException {
        OptionalInt page = vm.coalescedMmioPage();
        if (page.isEmpty()) {
            return;
        }
        userIrqchip.queueEndsOfInterrupt(0, vcpus.getFirst().coalescedMmioRing(page.getAsInt()));
        eoiZone = vm.registerCoalescedMmio(UserIrqchip.endOfInterruptRegister(), Integer.BYTES);
    }

    /** COM1: the 16550A on GSI 4 (free: {@link PlatformBus} hands out 16-23, 5, 9-11), or the output port. */
    private void addConsole() {
        if (config.console() == ConsoleDevice.OUTPUT_PORT) {
            pio.add("console", GuestPorts.CONSOLE_PORT, GuestPorts.CONSOLE_PORTS, ports.outputPortConsole());
            return;
        }
        IrqLine line = irqLine(GuestPorts.CONSOLE_GSI);
        AtomicBoolean lineFailureLogged = new AtomicBoolean();
        consoleUart = Uart16550.builder()
                .interruptSink(asserted -> {
                    try {
                        line.set(asserted);
                    } catch (ErrnoException e) {
                        // A host failure, not the guest's: say it once and keep the console working.
                        if (lineFailureLogged.compareAndSet(false, true)) {
                            LOG.log(
                                    System.Logger.Level.WARNING,
                                    "console UART: cannot set " + line + " (logged once): " + e.getMessage());
                        }
                    }
                })
                .transmitter(value -> {
                    ports.consoleOutput(value);
                    return true;
                })
                .clock(new EventLoopClock(eventLoop, "the console UART's character timeout"))
                .interruptOutput(Uart16550.InterruptOutput.GATED_BY_OUT2)
                .build();
        pio.add("console-16550a", GuestPorts.CONSOLE_PORT, GuestPorts.CONSOLE_PORTS, new UartPortDevice(consoleUart));
    }

    private static final BusDevice ABSENT_PIC = new BusDevice() {
        @Override
        public long read(long offset, int size) {
            return Bus.UNCLAIMED_READ;
        }

        @Override
        public void write(long offset, int size, long value) {}
    };

    /** The clock of the LAPIC timers and the UART: the event loop's timer and System.nanoTime. */
    private record EventLoopClock(EventLoop loop, String timerName) implements UserIrqchip.Clock, Uart16550.Clock {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Runnable schedule(long delayNanos, Runnable task) {
            try {
                EventLoop.Scheduled scheduled = loop.schedule(Duration.ofNanos(delayNanos), task);
                return scheduled::cancel;
            } catch (ErrnoException e) {
                throw new IllegalStateException("cannot arm " + timerName + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * The TSC frequency KVM runs the vCPU at (every vCPU of a VM gets the same), or empty where KVM cannot
     * say; the guest then learns it from kvm-clock or calibrates it.
     */
    private static OptionalInt tscKhz(Vcpu vcpu) {
        try {
            return OptionalInt.of(vcpu.tscKhz());
        } catch (ErrnoException e) {
            if (TSC_UNKNOWN_REPORTED.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.INFO, "CPUID 0x40000010 left out: " + e.getMessage());
            }
            return OptionalInt.empty();
        }
    }

    private static List<CpuidEntry> withApicId(List<CpuidEntry> cpuid, int id) {
        List<CpuidEntry> result = new ArrayList<>(cpuid.size());
        for (CpuidEntry e : cpuid) {
            result.add(
                    switch (e.function()) {
                        case 1 -> e.withRegisters(e.eax(), (e.ebx() & 0x00FFFFFF) | id << 24, e.ecx(), e.edx());
                        case 0xB, 0x1F -> e.withRegisters(e.eax(), e.ebx(), e.ecx(), id);
                        default -> e;
                    });
        }
        return result;
    }

    public Bus mmio() {
        return mmio;
    }

    public Bus pio() {
        return pio;
    }

    /** Which irqchip this machine uses, and why. */
    public IrqchipSelection irqchip() {
        return irqchip;
    }

    /** IOAPIC pin {@code pin}'s redirection entry, from whichever irqchip the machine uses. */
    public long ioapicRedirectionEntry(int pin) throws ErrnoException {
        return userIrqchip != null ? userIrqchip.redirectionEntry(pin) : vm.ioapicRedirectionEntry(pin);
    }

    /** The counts of jvfio's own irqchip; empty with KVM's in-kernel one. */
    public Optional<IrqchipCounters> irqchipCounters() {
        return Optional.ofNullable(userIrqchip).map(UserIrqchip::counters);
    }

    public GuestRam ram() {
        return ram;
    }

    public EventLoop eventLoop() {
        return eventLoop;
    }

    public PlatformBus platformBus() {
        return platformBus;
    }

    /**
     * The line for {@code gsi}: KVM_IRQ_LINE on this VM with the in-kernel irqchip; jvfio's IOAPIC pin, which
     * also reports the guest's EOIs, with its own.
     */
    public IrqLine irqLine(int gsi) {
        if (gsi < 0 || gsi >= Vm.IOAPIC_PINS) {
            throw new IllegalArgumentException(
                    "GSI " + gsi + " is not an IOAPIC pin (0.." + (Vm.IOAPIC_PINS - 1) + ")");
        }
        if (userIrqchip == null) {
            return irqfdAccepted ? IrqLine.withIrqfd(gsi, vm::setIrqLine, vmIrqfds) : new IrqLine(gsi, vm::setIrqLine);
        }
        UserIrqchip chip = userIrqchip;
        return new IrqLine(gsi, chip::setLevel, Optional.of(new IrqLine.EndOfInterruptSource() {
            @Override
            public boolean inService(int pin) {
                return chip.inService(pin);
            }

            @Override
            public EoiRegistration onEndOfInterrupt(int pin, Runnable listener) {
                return chip.onEndOfInterrupt(pin, listener);
            }

            @Override
            public EoiRegistration resampleOnEndOfInterrupt(int pin, Runnable listener) {
                return chip.resampleOnEndOfInterrupt(pin, listener);
            }
        }));
    }

    /**
     * Whether a subregion can be a read-only memory slot (KVM_CAP_READONLY_MEM): the guest's reads of it
     * do not exit, its writes exit as MMIO to the trapped range below ({@link #addSubregion}).
     */
    public boolean acceptsReadOnlyMemory() {
        return readOnlyMemoryAccepted;
    }

    /** Whether KVM can turn guest MMIO writes into eventfd signals (KVM_CAP_IOEVENTFD), on either irqchip. */
    public boolean acceptsMmioEventfd() {
        return ioeventfdAccepted;
    }

    /**
     * KVM_IOEVENTFD: a guest write of {@code length} bytes at guest-physical {@code address} (of the value
     * {@code datamatch} only, if given) signals {@code event} inside KVM instead of exiting; other writes
     * there still reach the MMIO bus. Only where {@link #acceptsMmioEventfd()}.
     */
    public MmioEventfd registerMmioEventfd(EventFd event, long address, int length, OptionalLong datamatch)
            throws ErrnoException {
        if (!ioeventfdAccepted) {
            throw new IllegalStateException("this KVM has no KVM_CAP_IOEVENTFD");
        }
        return new MmioEventfd(vm, event, address, length, datamatch);
    }

    /**
     * The devices the DSDT of a Linux kernel describes so far: COM1 when the console is the 16550A, then
     * those {@link #addAcpiDevice added}, in order.
     */
    public synchronized List<AcpiDevice> acpiDevices() {
        List<AcpiDevice> all = new ArrayList<>();
        if (consoleUart != null) {
            all.add(com1());
        }
        all.addAll(addedAcpiDevices);
        return List.copyOf(all);
    }

    /**
     * Describes a device in the DSDT a Linux kernel gets (before {@link #start}), as the seed adds a
     * device-tree node; an ELF guest has no ACPI and ignores it.
     *
     * @throws IllegalArgumentException if its name, or its {@code _HID} with its {@code _UID}, is taken
     */
    public synchronized void addAcpiDevice(AcpiDevice device) {
        if (started) {
            throw new IllegalStateException("the DSDT is written at start; add ACPI devices before");
        }
        List<AcpiDevice> all = new ArrayList<>(acpiDevices());
        all.add(device);
        new AcpiConfig(config.vcpus(), all); // refuses a name or _HID/_UID pair already taken
        addedAcpiDevices.add(device);
    }

    /** Lists a device in the boot info (before {@link #start}). */
    public synchronized void addDevice(BootInfo.Device device) {
        if (started) {
            throw new IllegalStateException("devices are listed in the boot info at start; add them before");
        }
        devices.add(device);
    }

    /** The devices the boot info lists so far, in order. */
    public synchronized List<BootInfo.Device> devices() {
        return List.copyOf(devices);
    }

    /**
     * Takes a device that went before {@link #start} out of the boot info and the DSDT, whichever it was in,
     * so that neither describes its window and GSIs, which the platform bus hands to the next device.
     * Once the machine started, both are written and this does nothing.
     */
    public synchronized void withdrawDevice(BootInfo.Device listed, AcpiDevice described) {
        if (started) {
            return;
        }
        devices.removeIf(device -> device == listed);
        addedAcpiDevices.removeIf(device -> device == described);
    }

    /**
     * Puts {@code trapped} on the MMIO bus at [base, base + size) and returns the switch for the
     * subregion of it at {@code base + subOffset} backed by {@code memory} (initially off: trapping).
     */
    public synchronized SwitchableRegion addSwitchableRegion(
            String name, long base, long size, MmioDevice trapped, long subOffset, Mapping memory) {
        if (subOffset < 0 || subOffset > size - memory.size()) {
            throw new IllegalArgumentException(name + ": the subregion (0x" + Long.toHexString(memory.size())
                    + " bytes at +0x" + Long.toHexString(subOffset) + ") lies outside the region (0x"
                    + Long.toHexString(size) + " bytes)");
        }
        SwitchableRegion region = addSubregion(name, base + subOffset, memory);
        mmio.add(name, base, size, trapped);
        return region;
    }

    /**
     * Returns the switch for a memory slot at {@code guestAddress} backed by {@code memory} (initially
     * off), over a range the caller already put on the MMIO bus: a region with several mmap'able areas
     * gets one subregion per area.
     */
    public SwitchableRegion addSubregion(String name, long guestAddress, Mapping memory) {
        return addSubregion(name, guestAddress, memory, false);
    }

    /**
     * As {@link #addSubregion(String, long, Mapping)}; a {@code readOnly} slot takes the guest's reads
     * only, and its writes exit to the trapped range below (where {@link #acceptsReadOnlyMemory}).
     */
    public synchronized SwitchableRegion addSubregion(
            String name, long guestAddress, Mapping memory, boolean readOnly) {
        if (readOnly && !readOnlyMemoryAccepted) {
            throw new IllegalStateException("this KVM has no KVM_CAP_READONLY_MEM");
        }
        int slotNumber = slotNumbers.take();
        try {
            return new SwitchableRegion(
                    name,
                    new SwitchableRegion.SlotControl() {
                        @Override
                        public void map(int slot, long address, Mapping m) throws ErrnoException {
                            vm.setMemorySlot(slot, address, m, 0, m.size(), readOnly);
                        }

                        @Override
                        public void unmap(int slot) throws ErrnoException {
                            vm.removeMemorySlot(slot);
                        }

                        @Override
                        public void release(int slot) {
                            slotNumbers.release(slot);
                        }
                    },
                    slotNumber,
                    guestAddress,
                    memory);
        } catch (RuntimeException e) {
            slotNumbers.release(slotNumber);
            throw e;
        }
    }

    /**
     * Loads the guest, writes the long-mode tables and the boot info, and starts the vCPU threads and, with
     * a console input, the thread that feeds it to the UART.
     */
    public synchronized void start() throws IOException {
        if (started || closed) {
            throw new IllegalStateException(closed ? "machine is closed" : "machine already started");
        }
        started = true;
        Vcpu boot = vcpus.getFirst();
        if (config.kernel() != null) {
            AcpiTables tables = AcpiTables.build(new AcpiConfig(config.vcpus(), acpiDevices()));
            ram.write(tables.rsdpAddress(), tables.image());
            pio.add("acpi-sleep", AcpiTables.SLEEP_CONTROL_PORT, 2, acpiSleepRegisters());
            KernelEntry entry =
                    LinuxBoot.load(config.kernel(), ram.mapping(), memoryMap(ram.size()), tables.rsdpAddress());
            boot.setSregs(entry.sregs(boot.sregs()));
            boot.setRegs(entry.regs());
        } else {
            byte[] image = config.guestImage();
            ElfImage elf = ElfImage.parse(image);
            elf.loadInto(image, ram.mapping(), LongMode.IMAGE_LOWEST);
            LongMode.writeTables(ram.mapping());
            ram.write(LongMode.BOOT_INFO_ADDRESS, BootInfo.encode(ram.size(), config.args(), devices));
            boot.setSregs(LongMode.sregs(boot.sregs()));
            boot.setRegs(LongMode.regs(elf.entry()));
        }
        for (Vcpu vcpu : vcpus) {
            Thread thread = Thread.ofPlatform()
                    .name("jvfio-vcpu-" + vcpu.id())
                    .daemon(true)
                    .unstarted(() -> runVcpu(vcpu));
            threads.add(thread);
        }
        threads.forEach(Thread::start);
        if (config.consoleInput() != null) {
            consoleInput = SerialInputPump.start("jvfio-console-input", config.consoleInput(), consoleUart);
        }
    }

    /** COM1, the console 16550A: ISA IRQ 4, edge as on a PC. */
    private static AcpiDevice com1() {
        return AcpiDevice.builder("COM1", HardwareId.eisaId("PNP0501"))
                .uid(0)
                .io(GuestPorts.CONSOLE_PORT, GuestPorts.CONSOLE_PORTS)
                .interrupt(GuestPorts.CONSOLE_GSI, ResourceDescriptor.ExtendedInterrupt.Trigger.EDGE)
                .build();
    }

    /**
     * The FADT's sleep control and status registers: writing S5 with SLP_EN to the control register is
     * Linux's power-off, which ends the run with status 0; the status register reads "woken" (WAK_STS).
     */
    private PioDevice acpiSleepRegisters() {
        return new PioDevice() {
            @Override
            public long read(long offset, int size) {
                return offset == 1 ? 0x80 : 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                if (offset == 0 && AcpiTables.requestsPowerOff((int) value)) {
                    finish(new MachineExit.Exited(0));
                }
            }
        };
    }

    /**
     * The memory map Linux gets: RAM, and above it every range the machine decodes or KVM holds, reserved:
     * the platform-bus window, the IOAPIC and LAPIC pages, and KVM's identity-map page and TSS.
     */
    static List<MemoryMap.Entry> memoryMap(long ramSize) {
        return MemoryMap.layout(
                ramSize,
                List.of(
                        reserved(PlatformBus.MMIO_WINDOW_BASE, PlatformBus.MMIO_WINDOW_SIZE),
                        reserved(IDENTITY_MAP_ADDRESS, TSS_ADDRESS + KVM_TSS_SIZE - IDENTITY_MAP_ADDRESS),
                        reserved(UserIrqchip.ioApicBase(), UserIrqchip.ioApicSize()),
                        reserved(UserIrqchip.localApicBase(), UserIrqchip.localApicSize())));
    }

    private static MemoryMap.Entry reserved(long address, long size) {
        return new MemoryMap.Entry(address, size, MemoryMap.Type.RESERVED);
    }

    private void runVcpu(Vcpu vcpu) {
        ExitDispatcher dispatcher = dispatchers.get(vcpu.id());
        UserIrqchip chip = userIrqchip;
        try {
            if (chip != null && vcpu.id() != 0) {
                // jvfio starts only vCPU 0 and models no INIT/SIPI: the others wait, as in-kernel APs do.
                chip.halt(vcpu.id(), false);
                return;
            }
            while (!stopping) {
                runExits(vcpu, dispatcher, chip);
            }
        } catch (ErrnoException | RuntimeException e) {
            finish(new MachineExit.Failed("vcpu " + vcpu.id() + ": " + e.getMessage()));
        } catch (InterruptedException e) {
            finish(new MachineExit.Failed("vcpu " + vcpu.id() + ": interrupted while halted"));
        } catch (Error e) {
            // A device handler's StackOverflowError, say: the machine ends with it rather than losing this
            // vCPU while the others run on and awaitExit times out with no reason.
            finish(new MachineExit.Failed("vcpu " + vcpu.id() + ": " + e));
            throw e;
        } finally {
            vcpu.releaseThread();
        }
    }

    /** Exits handled per call of {@link #runExits}. */
    private static final int EXITS_PER_CALL = 16;

    /**
     * Up to {@link #EXITS_PER_CALL} entries into the guest, each with its exit handled. The JIT counts
     * calls of a method, and HotSpot compiles a loop it is already running (on-stack replacement) only
     * after tens of thousands of iterations; the vCPU thread's loop runs once per thread, so it stays in
     * the interpreter for a machine that lives for fewer exits (a test, a benchmark round, a short job).
     * This method is compiled after a few hundred calls, and the interpreted loop then costs one call
     * per 16 exits: with a call per exit it was 2% of the vCPU thread's samples on irq-irqfd in the
     * nested guest (bench/RESULTS.md, 2026-12-05).
     */
    private void runExits(Vcpu vcpu, ExitDispatcher dispatcher, UserIrqchip chip)
            throws ErrnoException, InterruptedException {
        for (int i = 0; i < EXITS_PER_CALL && !stopping; i++) {
            runOnce(vcpu, dispatcher, chip);
        }
    }

    /** One entry into the guest and the handling of its exit. */
    private void runOnce(Vcpu vcpu, ExitDispatcher dispatcher, UserIrqchip chip)
            throws ErrnoException, InterruptedException {
        VcpuExit exit;
        if (chip != null) {
            chip.beforeEntry(vcpu.id(), vcpu);
            try {
                exit = vcpu.run();
            } finally {
                chip.afterExit(vcpu.id(), vcpu);
            }
        } else {
            exit = vcpu.run();
        }
        CompletableFuture<String> stateRequest = vcpuStates.take(vcpu.id());
        if (stateRequest != null) {
            VcpuStates.answer(stateRequest, () -> readState(vcpu, chip));
        }
        switch (dispatcher.dispatch(exit)) {
            case ExitAction.CompleteRead read -> vcpu.completeRead(read.value());
            case ExitAction.Stop stop ->
                finish(exit instanceof VcpuExit.Shutdown ? withCpuState(stop.exit(), vcpu) : stop.exit());
            case ExitAction.AwaitInterrupt await -> {
                if (chip != null) {
                    chip.halt(vcpu.id(), vcpu.interruptsEnabled());
                }
            }
            case ExitAction.Resume resume -> {}
        }
    }

    private static String readState(Vcpu vcpu, UserIrqchip chip) throws ErrnoException {
        Regs regs = vcpu.regs();
        return VcpuStates.describe(regs, chip != null ? lapicOf(chip, vcpu.id()) : vcpu.lapicState()::register);
    }

    /** vCPU {@code id}'s LAPIC on jvfio's irqchip, as 32-bit registers by offset. */
    private static IntUnaryOperator lapicOf(UserIrqchip chip, int id) {
        return offset -> (int) chip.readLocalApic(id, offset, 4);
    }

    /**
     * What vCPU {@code id} is doing in the guest, for a guest that does not get on: its RIP and RFLAGS and
     * its LAPIC's requested and in-service vectors, read by its own thread at the exit a kick makes. Where
     * that thread does not come back within {@code timeout} (it is held in a device handler, or waits in
     * jvfio's irqchip for an interrupt the guest cannot take), where the thread is instead, and on jvfio's
     * irqchip its LAPIC, which needs no vCPU thread.
     */
    public String vcpuState(int id, Duration timeout) throws InterruptedException {
        Objects.checkIndex(id, vcpus.size());
        MachineExit ended = outcomeIfEnded();
        if (ended != null) {
            return "the machine has ended: " + ended;
        }
        CompletableFuture<String> request = vcpuStates.request(id);
        vcpus.get(id).kick();
        try {
            return request.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            UserIrqchip chip = userIrqchip;
            return "not read by its thread within " + timeout.toMillis() + " ms (" + whereVcpuThreadsAreHeld() + ")"
                    + (chip == null ? "" : "; " + VcpuStates.describeLapic(lapicOf(chip, id)));
        }
    }

    /**
     * A triple fault says nothing of where: KVM on Intel leaves the vCPU's registers as they were at the
     * fault, so the reason carries them, as QEMU's register dump does, to tell a guest's bug from the
     * VMM's. KVM on AMD resets the vCPU at a shutdown: then the reason says that the place is unknown.
     */
    private static final long RESET_RIP = 0xfff0;

    private static final int RESET_CS = 0xf000;

    private static MachineExit withCpuState(MachineExit exit, Vcpu vcpu) {
        if (!(exit instanceof MachineExit.Failed failed)) {
            return exit;
        }
        String state;
        try {
            Regs regs = vcpu.regs();
            Sregs sregs = vcpu.sregs();
            if (regs.rip() == RESET_RIP && sregs.cs().selector() == RESET_CS) {
                return new MachineExit.Failed(failed.reason() + " on vcpu " + vcpu.id()
                        + ": where is unknown, KVM put the vCPU back in its reset state (as on AMD, whose VMCB is"
                        + " undefined after a shutdown)");
            }
            state = "rip=0x%x rsp=0x%x rflags=0x%x cs=0x%x cr0=0x%x cr2=0x%x cr3=0x%x cr4=0x%x efer=0x%x idt=0x%x+0x%x"
                    .formatted(
                            regs.rip(),
                            regs.rsp(),
                            regs.rflags(),
                            sregs.cs().selector(),
                            sregs.cr0(),
                            sregs.cr2(),
                            sregs.cr3(),
                            sregs.cr4(),
                            sregs.efer(),
                            sregs.idt().base(),
                            sregs.idt().limit());
        } catch (ErrnoException e) {
            state = "registers unreadable: " + e.getMessage();
        }
        return new MachineExit.Failed(failed.reason() + " on vcpu " + vcpu.id() + ": " + state);
    }

    private void finish(MachineExit exit) {
        if (outcome.complete(exit) && exit instanceof MachineExit.Failed failed) {
            LOG.log(System.Logger.Level.WARNING, "guest failed: " + failed.reason());
        }
        stopping = true;
        if (userIrqchip != null) {
            userIrqchip.stop();
        }
        for (Vcpu vcpu : vcpus) {
            vcpu.kick();
        }
    }

    /** Waits for the guest's exit code; a guest that fails instead throws with the reason and its console. */
    public int awaitExit(Duration timeout) throws GuestFailedException, TimeoutException, InterruptedException {
        MachineExit exit = awaitOutcome(timeout);
        return switch (exit) {
            case MachineExit.Exited exited -> exited.code();
            case MachineExit.Failed failed -> throw new GuestFailedException(failed.reason(), console());
            case MachineExit.Stopped stopped -> throw new GuestFailedException("the machine was closed", console());
        };
    }

    /** Waits for how the run ended. */
    public MachineExit awaitOutcome(Duration timeout) throws TimeoutException, InterruptedException {
        try {
            return outcome.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            TimeoutException timeoutException = new TimeoutException("the guest did not exit within " + timeout + "; "
                    + describeVcpuThreads() + "; console so far:\n" + console());
            timeoutException.initCause(e);
            throw timeoutException;
        }
    }

    /**
     * Where each vCPU thread is, for a guest that does not exit: in KVM_RUN (the guest itself waits or
     * loops) or in the VMM (a device handler that does not return).
     */
    private synchronized String describeVcpuThreads() {
        StringBuilder description = new StringBuilder();
        for (Thread thread : threads) {
            StackTraceElement[] stack = thread.getStackTrace();
            description
                    .append(description.isEmpty() ? "" : ", ")
                    .append(thread.getName())
                    .append(' ')
                    .append(thread.getState());
            for (int frame = 0; frame < Math.min(stack.length, 4); frame++) {
                description
                        .append(frame == 0 ? " at " : " < ")
                        .append(stack[frame]
                                .getClassName()
                                .substring(stack[frame].getClassName().lastIndexOf('.') + 1))
                        .append('.')
                        .append(stack[frame].getMethodName());
            }
        }
        return description.isEmpty() ? "no vCPU thread started" : description.toString();
    }

    /** Each live vCPU thread and the first frame of its stack outside the JDK: the handler that holds it. */
    private String whereVcpuThreadsAreHeld() {
        StringBuilder where = new StringBuilder();
        for (Thread thread : threads) {
            if (!thread.isAlive()) {
                continue;
            }
            where.append(where.isEmpty() ? "" : ", ").append(thread.getName());
            for (StackTraceElement frame : thread.getStackTrace()) {
                String name = frame.getClassName();
                if (!name.startsWith("java.") && !name.startsWith("jdk.") && !name.startsWith("sun.")) {
                    where.append(" in ").append(name).append('.').append(frame.getMethodName());
                    break;
                }
            }
        }
        return where.toString();
    }

    /** How the run ended, or null while it goes on. */
    public MachineExit outcomeIfEnded() {
        return outcome.getNow(null);
    }

    /** The console output so far. */
    public String console() {
        return ports.consoleText();
    }

    /** The values the guest reported (port 0x502) so far. */
    public List<Integer> reports() {
        return ports.reports();
    }

    /** Stops the vCPUs (the outcome becomes {@link MachineExit.Stopped} unless the guest ended first). */
    public void stop() {
        finish(new MachineExit.Stopped());
    }

    /** Stops and joins the vCPU threads and the event loop, then frees the VM, RAM and /dev/kvm. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (consoleInput != null) {
            consoleInput.close();
        }
        stop();
        boolean interrupted = false;
        long waitingSince = System.nanoTime();
        long sayAt = waitingSince + CLOSE_WAIT_SAID_AFTER_NANOS;
        for (Thread thread : threads) {
            while (thread.isAlive()) {
                vcpus.forEach(Vcpu::kick);
                try {
                    thread.join(10);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
                long now = System.nanoTime();
                if (thread.isAlive() && now - sayAt >= 0) {
                    // a kick ends KVM_RUN, not a device handler: the VM cannot be freed under a thread still in one
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "closing the machine: still waiting after "
                                    + TimeUnit.NANOSECONDS.toSeconds(now - waitingSince)
                                    + " s for vCPU threads held outside KVM_RUN: " + whereVcpuThreadsAreHeld());
                    sayAt = now + CLOSE_WAIT_SAID_EVERY_NANOS;
                }
            }
        }
        if (eventLoop != null) {
            eventLoop.close();
        }
        if (eoiZone != null) {
            eoiZone.close();
        }
        if (vm != null) {
            vm.close();
        }
        if (ram != null) {
            ram.close();
        }
        if (kvm != null) {
            kvm.close();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
