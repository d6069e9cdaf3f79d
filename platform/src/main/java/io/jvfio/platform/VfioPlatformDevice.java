package io.jvfio.platform;

import io.jvfio.machine.IrqLine;
import io.jvfio.machine.Machine;
import io.jvfio.machine.MmioEventfd;
import io.jvfio.machine.PlatformBus;
import io.jvfio.machine.SwitchableRegion;
import io.jvfio.machine.acpi.AcpiDevice;
import io.jvfio.machine.acpi.CompatibleIds;
import io.jvfio.machine.acpi.HardwareId;
import io.jvfio.machine.acpi.ResourceDescriptor;
import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.irqchip.EoiRegistration;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.platform.devicetree.FdtReader;
import io.jvfio.platform.devicetree.Node;
import io.jvfio.platform.devicetree.PlatformBusTree;
import io.jvfio.platform.devicetree.Property;
import io.jvfio.platform.irq.FastPath;
import io.jvfio.platform.irq.GuestLine;
import io.jvfio.platform.irq.IrqController;
import io.jvfio.platform.irq.IrqSpec;
import io.jvfio.platform.irq.Scheduler;
import io.jvfio.platform.observe.JfrIrqListener;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Mapping;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqInfo;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.RegionIoEventFd;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfio.VfioException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

/**
 * A VFIO platform device assigned to a guest: QEMU's {@code vfio-platform} on jvfio's machine.
 *
 * <p>Realizing it reads every region and IRQ of the device, places each region on the platform bus as
 * a trapped range with an mmap'ed fast path (unless {@code x-no-mmap} or the region cannot be mapped),
 * wires each IRQ to a GSI by KVM irqfd (+ resamplefd for automasked IRQs) when KVM offers both and
 * {@code x-irqfd} is on, else by the user-side state machine, maps guest RAM for the device's DMA, and
 * lists the device in the guest's boot info and in the DSDT a Linux guest gets. A device that offers
 * reset is reset first, as a VM's reset at power-on does, so a guest never inherits a previous user's
 * state. The device is owned: closing this closes it.
 */
public final class VfioPlatformDevice implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VfioPlatformDevice.class.getName());
    private static final String ACPI_NAME_PREFIX = "VF";

    private final PlatformDeviceConfig config;
    private final VfioDevice device;
    private final Machine machine;
    private final String name;
    /** The MMIO ranges and GSIs this device took; returned to the machine's platform bus on close. */
    private final PlatformBus.Lease busLease;

    private final List<PlatformRegion> regions = new ArrayList<>();
    private final List<PlatformIrqWiring> irqs = new ArrayList<>();
    private final List<Long> dmaMaps = new ArrayList<>();
    /** The device's ioeventfds that KVM signals for the guest's writes, with their registrations. */
    private final List<PostedWrite> postedWrites = new ArrayList<>();

    private final Set<Integer> delivering = ConcurrentHashMap.newKeySet();
    private DeviceInfo info;
    private String compatible;
    private Optional<DeviceTreeIdentity> identity = Optional.empty();
    private Optional<Node> dtOverlay = Optional.empty();
    private AcpiDevice acpiDevice;
    /** This device's entry in the machine's boot info, once listed. */
    private BootInfo.Device bootInfoEntry;

    private IrqController controller;
    /** Per automasked user-side IRQ on jvfio's irqchip: the guest's EOIs of its line, which unmask it. */
    private final Map<Integer, EoiRegistration> guestEoiObservers = new HashMap<>();

    /** An ioeventfd the device offered and KVM's registration of it. */
    private record PostedWrite(RegionIoEventFd offered, MmioEventfd registration) {}

    private boolean closed;
    private volatile String goneReason;
    private final PlatformDeviceCounters counters = new PlatformDeviceCounters(this);

    private VfioPlatformDevice(PlatformDeviceConfig config, VfioDevice device, Machine machine) {
        this.config = config;
        this.device = device;
        this.machine = machine;
        this.name = config.id();
        this.busLease = machine.platformBus().lease();
    }

    /**
     * Assigns {@code device} (already opened from {@code config}'s source) to {@code machine}, before the
     * machine starts. On failure everything set up so far is undone and the device is closed.
     */
    public static VfioPlatformDevice realize(Machine machine, PlatformDeviceConfig config, VfioDevice device)
            throws IOException {
        VfioPlatformDevice assigned = new VfioPlatformDevice(config, device, machine);
        try {
            assigned.realize();
            return assigned;
        } catch (IOException | RuntimeException e) {
            assigned.close();
            throw e;
        }
    }

    private void realize() throws IOException {
        dtOverlay = readDtOverlay();
        info = device.info();
        requirePlatform(name, info);
        identity = device.deviceTreeIdentity();
        compatible = config.compat()
                .or(() -> identity.map(id -> id.compatible().getFirst()))
                .orElseThrow(
                        () -> new VfioException(name, "no compatible string: the device declares none, give compat="));
        for (int index = 0; index < info.regionCount(); index++) {
            RegionInfo region = device.regionInfo(index);
            if (region.size() > 0) {
                regions.add(placeRegion(region));
            }
        }
        if (info.supportsReset()) {
            device.reset();
        }
        List<PlatformIrqWiring> userSide = wireIrqs();
        for (PlatformRegion region : regions) {
            mapReadOnlyAreas(region);
        }
        if (machine.acceptsMmioEventfd()) {
            for (PlatformRegion region : regions) {
                postWrites(region);
            }
            if (!postedWrites.isEmpty()) {
                // A posted write never fails where jvfio sees it: the backend's own watch must say the device died.
                device.onGone(gone -> {
                    try {
                        machine.eventLoop().execute(() -> deviceGone(gone));
                    } catch (ErrnoException | IllegalStateException e) {
                        LOG.log(System.Logger.Level.DEBUG, "vfio " + name + ": " + gone.getMessage());
                    }
                });
            }
        } else {
            LOG.log(
                    System.Logger.Level.INFO,
                    "vfio " + name + ": KVM has no KVM_CAP_IOEVENTFD: every register write traps, posted ones too");
        }
        if (!userSide.isEmpty()) {
            // after the posted writes, which the state machine switches with the fast path
            startUserSide(userSide);
        }
        mapGuestRam();
        List<BootInfo.Region> placed = regions.stream()
                .map(r -> new BootInfo.Region(r.guestBase(), r.info().size()))
                .toList();
        acpiDevice = describeInAcpi();
        machine.addAcpiDevice(acpiDevice);
        bootInfoEntry = new BootInfo.Device(
                compatible, placed, irqs.stream().map(PlatformIrqWiring::gsi).toList());
        machine.addDevice(bootInfoEntry);
        counters.register();
    }

    /** Refuses a device that is not a VFIO platform device (a PCI device, say): jvfio assigns only those. */
    static void requirePlatform(String name, DeviceInfo info) throws VfioException {
        if (!info.isPlatform()) {
            throw new VfioException(
                    name,
                    "not a platform device (flags " + info.flagNames()
                            + "): only VFIO platform devices can be assigned");
        }
    }

    /**
     * Places a region in the platform-bus window: trapped, plus an mmap'ed fast path over each page-aligned
     * area the device offers. As in the seed, a region that offers no mmap is simply trapped, x-no-mmap
     * traps one that does (said at info level), and only an mmap that fails warns that every access will
     * trap.
     */
    private PlatformRegion placeRegion(RegionInfo region) throws IOException {
        long base = busLease.allocateMmio(region.size());
        String regionName = name + ".region" + region.index();
        // Read-only areas wait until the IRQs are wired (mapReadOnlyAreas): whether they may map depends on their path.
        List<SparseArea> offered =
                region.mappableAreas().stream().filter(area -> !area.readOnly()).toList();
        List<SparseArea> areas = config.noMmap()
                ? List.of()
                : offered.stream()
                        .filter(area -> area.offset() % PlatformBus.PAGE_SIZE == 0
                                && area.size() % PlatformBus.PAGE_SIZE == 0
                                && area.size() > 0)
                        .toList();
        if (config.noMmap() && !offered.isEmpty()) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "vfio " + name + ": region " + region.index()
                            + " is trapped (x-no-mmap): every guest access exits to jvfio");
        } else if (areas.isEmpty() && !offered.isEmpty()) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "vfio " + name + ": region " + region.index() + " offers mmap but no "
                            + "page-aligned area of it: every guest access will trap, performance may be slow");
        }
        List<Mapping> mappings = new ArrayList<>();
        try {
            for (SparseArea area : areas) {
                mappings.add(device.map(region.index(), area.offset(), area.size()));
            }
        } catch (ErrnoException e) {
            mappings.forEach(Mapping::close);
            mappings.clear();
            LOG.log(
                    System.Logger.Level.WARNING,
                    "vfio " + name + ": region " + region.index() + " cannot be mmap'ed (" + e.getMessage()
                            + "): every guest access will trap, performance may be slow");
        } catch (IOException | RuntimeException e) {
            mappings.forEach(Mapping::close);
            throw e;
        }
        if (mappings.isEmpty()) {
            PlatformRegion trapped = new PlatformRegion(name, device, region, base, List.of(), this::deviceGone);
            machine.mmio().add(regionName, base, region.size(), trapped);
            return trapped;
        }
        PlatformRegion placed = new PlatformRegion(name, device, region, base, mappings, this::deviceGone);
        machine.mmio().add(regionName, base, region.size(), placed);
        try {
            for (int i = 0; i < mappings.size(); i++) {
                placed.attachFastPath(machine.addSubregion(
                        regionName + ".mmap" + i, base + areas.get(i).offset(), mappings.get(i)));
            }
            placed.setFastPath(true);
        } catch (ErrnoException | RuntimeException e) {
            // Not yet among the regions close() undoes: its slots, mappings and trapped range go here.
            placed.close();
            machine.mmio().remove(base);
            throw e;
        }
        return placed;
    }

    /**
     * Maps the region's read-only areas (jvfio's read-only mmap capability) as read-only memory slots, so
     * the guest reads the device's registers with no exit while its writes still trap (or post). Only
     * where every IRQ of the device takes the irqfd path: the user-side path ends an IRQ at the first
     * trapped access, which a read from memory would never be. x-no-mmap, a KVM without
     * KVM_CAP_READONLY_MEM, or an area that is not whole pages keeps the area trapped.
     */
    private void mapReadOnlyAreas(PlatformRegion region) throws IOException {
        List<SparseArea> readOnly = region.info().mappableAreas().stream()
                .filter(SparseArea::readOnly)
                .toList();
        if (readOnly.isEmpty() || config.noMmap()) {
            return;
        }
        String where = "vfio " + name + ": region " + region.info().index();
        if (irqs.stream().anyMatch(wiring -> wiring.path() == IrqPath.USER_SIDE)) {
            LOG.log(
                    System.Logger.Level.INFO,
                    where + ": its registers are read trapped: an IRQ takes the user-side path, which ends it"
                            + " at the first trapped access");
            return;
        }
        if (!machine.acceptsReadOnlyMemory()) {
            LOG.log(
                    System.Logger.Level.INFO,
                    where + ": KVM has no KVM_CAP_READONLY_MEM: its registers are read trapped");
            return;
        }
        for (SparseArea area : readOnly) {
            if (area.offset() % PlatformBus.PAGE_SIZE != 0
                    || area.size() % PlatformBus.PAGE_SIZE != 0
                    || area.size() == 0) {
                LOG.log(
                        System.Logger.Level.INFO,
                        where + ": read-only area " + area + " is not whole pages: its reads trap");
                continue;
            }
            Mapping memory;
            try {
                memory = device.map(region.info().index(), area.offset(), area.size());
            } catch (ErrnoException e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        where + ": read-only area " + area + " cannot be mmap'ed (" + e.getMessage()
                                + "): its reads trap");
                continue;
            }
            SwitchableRegion slot;
            try {
                slot = machine.addSubregion(
                        name + ".region" + region.info().index() + ".reads" + Long.toHexString(area.offset()),
                        region.guestBase() + area.offset(),
                        memory,
                        true);
            } catch (RuntimeException e) {
                memory.close();
                throw e;
            }
            region.attachReadPath(slot, memory);
            slot.setMapped(true);
        }
    }

    /**
     * Registers the ioeventfds the device offers for a region (vfio-user's DEVICE_GET_REGION_IO_FDS) with
     * KVM, so those writes (virtio's QueueNotify) signal the device's eventfd with no exit and no round
     * trip; every other access still traps. One over the fast path stays unregistered (a memory slot
     * takes the write before KVM's ioeventfds see it), and one KVM refuses stays trapped; both are said.
     */
    private void postWrites(PlatformRegion region) throws IOException {
        for (RegionIoEventFd offered : device.regionIoEventFds(region.info().index())) {
            String where =
                    "vfio " + name + ": region " + offered.region() + " +0x" + Long.toHexString(offered.offset());
            if (overFastPath(region.info(), offered.offset(), Math.max(1, offered.size()))) {
                LOG.log(System.Logger.Level.INFO, where + ": an ioeventfd over the mmap'ed fast path is not used");
                offered.close();
                continue;
            }
            if (acksAUserSideIrq(offered)) {
                // the user-side state machine ends the injection at this write (precise EOI): it must trap
                LOG.log(System.Logger.Level.DEBUG, where + ": the ack of a user-side IRQ stays trapped");
                offered.close();
                continue;
            }
            try {
                postedWrites.add(new PostedWrite(
                        offered,
                        machine.registerMmioEventfd(
                                offered.eventFd(),
                                region.guestBase() + offered.offset(),
                                offered.size(),
                                offered.datamatch())));
            } catch (ErrnoException e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        where + ": KVM refused the ioeventfd, the write stays trapped: " + e.getMessage());
                offered.close();
            }
        }
    }

    /** Whether a posted write would cover the declared ack register of an IRQ on the user-side path. */
    private boolean acksAUserSideIrq(RegionIoEventFd offered) {
        long end = offered.offset() + Math.max(1, offered.size());
        return identity.map(id -> id.irqAcks().stream()
                        .anyMatch(ack -> ack.region() == offered.region()
                                && ack.ackOffset() < end
                                && offered.offset() < ack.ackOffset() + 4
                                && irqs.stream()
                                        .anyMatch(wiring -> wiring.info().index() == ack.irqIndex()
                                                && wiring.path() == IrqPath.USER_SIDE)))
                .orElse(false);
    }

    private boolean overFastPath(RegionInfo region, long offset, long size) {
        if (config.noMmap()) {
            return false;
        }
        // A read-only slot passes writes on as MMIO, where KVM's ioeventfds see them.
        for (SparseArea area : region.mappableAreas()) {
            if (!area.readOnly() && offset < area.end() && area.offset() < offset + size) {
                return true;
            }
        }
        return false;
    }

    /** Wires each IRQ to the irqfd path or the user-side one; returns those on the user-side path. */
    private List<PlatformIrqWiring> wireIrqs() throws IOException {
        boolean inKernelIrqchip = machine.irqchip().inKernel();
        List<PlatformIrqWiring> userSide = new ArrayList<>();
        for (int index = 0; index < info.irqCount(); index++) {
            IrqInfo irq = device.irqInfo(index);
            if (irq.count() == 0) {
                continue;
            }
            if (!irq.supportsEventfd()) {
                throw new VfioException(
                        name, "IRQ " + index + " cannot signal an eventfd (flags " + irq.flagNames() + ")");
            }
            int gsi = busLease.allocateGsi();
            if (config.irqfd() && !inKernelIrqchip) {
                LOG.log(
                        System.Logger.Level.INFO,
                        "vfio " + name + ": IRQ " + index + " takes the user-side path: KVM "
                                + "irqfd needs the in-kernel irqchip, and this machine runs jvfio's (kernel-irqchip=off)");
            }
            IrqLine line = machine.irqLine(gsi);
            PlatformIrqWiring wiring = config.irqfd() && line.acceptsIrqfd() ? wireIrqfd(irq, line) : null;
            if (wiring == null) {
                wiring = wireUserSide(irq, gsi);
                userSide.add(wiring);
            }
            irqs.add(wiring);
            delivering.add(index);
        }
        return userSide;
    }

    private Optional<IrqSpec.Ack> preciseAck(int index) {
        if (!config.preciseEoi()) {
            return Optional.empty();
        }
        return identity.flatMap(id -> id.irqAcks().stream()
                        .filter(ack -> ack.irqIndex() == index)
                        .findFirst())
                .map(ack -> new IrqSpec.Ack(ack.region(), ack.ackOffset(), ack.ackMask()));
    }

    /**
     * The irqfd path. Returns null if KVM refuses it (the caller falls back to the user-side path); a
     * VFIO-side failure after KVM accepted is undone and reported.
     */
    private PlatformIrqWiring wireIrqfd(IrqInfo irq, IrqLine line) throws IOException {
        EventFd trigger = EventFd.create();
        Optional<EventFd> unmask = Optional.empty();
        try {
            if (irq.automasked()) {
                unmask = Optional.of(EventFd.create());
            }
            line.registerIrqfd(trigger, unmask);
        } catch (ErrnoException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "vfio " + name + ": KVM refused irqfd for IRQ " + irq.index() + " (" + e.getMessage()
                            + "): using the user-side path");
            trigger.close();
            unmask.ifPresent(EventFd::close);
            return null;
        }
        try {
            device.setIrqs(IrqSet.trigger(irq.index(), 0, Optional.of(trigger)));
            if (unmask.isPresent()) {
                device.setIrqs(IrqSet.unmaskEventFd(irq.index(), 0, unmask));
            }
        } catch (IOException | RuntimeException e) {
            try {
                line.unregisterIrqfd(trigger);
            } catch (ErrnoException undo) {
                e.addSuppressed(undo);
            }
            trigger.close();
            unmask.ifPresent(EventFd::close);
            throw new VfioException(name, "failed to set up irqfd for IRQ " + irq.index(), e);
        }
        return new PlatformIrqWiring(irq, line.gsi(), IrqPath.IRQFD, trigger, unmask, PlatformIrqWiring.NO_TOKEN);
    }

    private PlatformIrqWiring wireUserSide(IrqInfo irq, int gsi) throws IOException {
        EventFd trigger = EventFd.create(true);
        try {
            device.setIrqs(IrqSet.trigger(irq.index(), 0, Optional.of(trigger)));
        } catch (IOException | RuntimeException e) {
            trigger.close();
            throw new VfioException(name, "failed to set trigger eventfd of IRQ " + irq.index(), e);
        }
        return new PlatformIrqWiring(
                irq, gsi, IrqPath.USER_SIDE, trigger, Optional.empty(), PlatformIrqWiring.NO_TOKEN);
    }

    private void startUserSide(List<PlatformIrqWiring> userSide) throws IOException {
        List<IrqSpec> specs = new ArrayList<>();
        // The seed's EOI on the first trapped access needs every access to trap, posted writes too: a
        // handler whose only access is one would otherwise never end its IRQ.
        boolean seedEoi = false;
        for (PlatformIrqWiring wiring : irqs) {
            int index = wiring.info().index();
            IrqSpec spec = new IrqSpec(index, wiring.info().automasked(), guestLine(wiring.gsi()), preciseAck(index));
            specs.add(spec);
            seedEoi |= wiring.path() == IrqPath.USER_SIDE && spec.ack().isEmpty();
        }
        boolean postedWritesTrap = seedEoi;
        Scheduler scheduler = (delayNanos, task) -> {
            try {
                var scheduled = machine.eventLoop().schedule(Duration.ofNanos(delayNanos), task);
                return scheduled::cancel;
            } catch (ErrnoException e) {
                throw new IllegalStateException("vfio " + name + ": cannot arm the mmap timer: " + e.getMessage(), e);
            }
        };
        FastPath fastPath = enabled -> {
            for (PlatformRegion region : regions) {
                try {
                    region.setFastPath(enabled);
                } catch (ErrnoException e) {
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "vfio " + name + ": switching the fast path " + (enabled ? "on" : "off") + " failed: "
                                    + e.getMessage());
                }
            }
            if (postedWritesTrap) {
                for (PostedWrite posted : postedWrites) {
                    try {
                        posted.registration().setEnabled(enabled);
                    } catch (ErrnoException e) {
                        LOG.log(
                                System.Logger.Level.WARNING,
                                "vfio " + name + ": the write at 0x"
                                        + Long.toHexString(posted.registration().address())
                                        + (enabled
                                                ? " keeps trapping: KVM refused its ioeventfd again: "
                                                : " stays posted: KVM would not de-assign its ioeventfd: ")
                                        + e.getMessage());
                    }
                }
            }
        };
        controller = new IrqController(
                specs, fastPath, scheduler, config.mmapTimeout(), this::unmask, new JfrIrqListener(name));
        regions.forEach(region -> region.setIrqController(controller));
        for (PlatformIrqWiring wiring : userSide) {
            int index = wiring.info().index();
            IrqLine line = machine.irqLine(wiring.gsi());
            if (wiring.info().automasked() && line.observesEndOfInterrupt()) {
                guestEoiObservers.put(index, line.onEndOfInterrupt(() -> controller.guestEndOfInterrupt(index)));
            }
            long token = machine.eventLoop().register(wiring.trigger(), count -> controller.trigger(index, count));
            irqs.set(
                    irqs.indexOf(wiring),
                    new PlatformIrqWiring(
                            wiring.info(), wiring.gsi(), wiring.path(), wiring.trigger(), wiring.unmask(), token));
        }
    }

    private GuestLine guestLine(int gsi) {
        IrqLine line = machine.irqLine(gsi);
        return new GuestLine() {
            @Override
            public void set(boolean level) {
                try {
                    line.set(level);
                } catch (ErrnoException e) {
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "vfio " + name + ": KVM_IRQ_LINE on GSI " + gsi + ": " + e.getMessage());
                }
            }

            @Override
            public boolean observesEndOfInterrupt() {
                return line.observesEndOfInterrupt();
            }

            @Override
            public boolean inService() {
                return line.inService();
            }
        };
    }

    private void unmask(int index) {
        try {
            device.setIrqs(IrqSet.unmask(index, 0));
        } catch (IOException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "vfio " + name + ": failed to unmask IRQ " + index + ": " + e.getMessage());
        }
    }

    private void mapGuestRam() throws IOException {
        var ram = machine.ram();
        device.mapDma(new DmaRegion(0, ram.size(), ram.mapping(), 0, ram.fd(), 0, true, true));
        dmaMaps.add(ram.size());
    }

    /**
     * The device stopped answering (its process died, or a reply timed out): the guest keeps running,
     * seeing the device as absent hardware. Its registers read all-ones and writes are dropped, its IRQ
     * lines are lowered and no longer driven, and its fast path is unmapped. Called on the vCPU thread
     * whose access found it gone; later calls do nothing.
     */
    private void deviceGone(IOException cause) {
        synchronized (this) {
            if (goneReason != null || closed) {
                return;
            }
            goneReason = cause.getMessage();
        }
        LOG.log(
                System.Logger.Level.ERROR,
                "vfio " + name + ": the device is gone (" + cause.getMessage()
                        + "): its regions now read all-ones and drop writes, its IRQ lines are lowered");
        regions.forEach(PlatformRegion::markGone);
        for (PlatformIrqWiring wiring : irqs) {
            stopDelivery(wiring);
        }
        if (controller != null) {
            controller.close();
        }
        for (PlatformRegion region : regions) {
            try {
                region.setFastPath(false);
            } catch (ErrnoException e) {
                LOG.log(System.Logger.Level.WARNING, "vfio " + name + ": unmapping the fast path: " + e.getMessage());
            }
        }
    }

    /** Why the device is gone, if it is. */
    public Optional<String> gone() {
        return Optional.ofNullable(goneReason);
    }

    /** The device's name in reports and errors. */
    public String name() {
        return name;
    }

    public String compatible() {
        return compatible;
    }

    /** The device behind it, kernel VFIO's or a vfio-user server's, for what only its backend reports. */
    public VfioDevice backend() {
        return device;
    }

    public DeviceInfo info() {
        return info;
    }

    /** What the guest sees of each region: where it sits, whether it has a fast path and whether it is mapped now. */
    public List<PlacedRegion> regions() {
        return regions.stream()
                .map(r -> new PlacedRegion(
                        r.info(),
                        r.guestBase(),
                        r.hasFastPath(),
                        r.fastPathMapped(),
                        r.hasReadPath(),
                        r.trappedReads(),
                        r.trappedWrites(),
                        r.failedAccesses(),
                        postedWrites.stream()
                                .filter(posted ->
                                        posted.offered().region() == r.info().index()
                                                && posted.registration().enabled())
                                .map(posted -> posted.offered().offset())
                                .toList()))
                .toList();
    }

    /** Each IRQ's GSI and path. */
    public List<WiredIrq> irqs() {
        return irqs.stream().map(w -> new WiredIrq(w.info(), w.gsi(), w.path())).toList();
    }

    /** The user-side state machine, if any IRQ uses it. */
    public Optional<IrqController> irqController() {
        return Optional.ofNullable(controller);
    }

    /** The device-tree identity the device declared, if any. */
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        return identity;
    }

    /**
     * Adds this device's node to a guest device tree: its compatible strings, its regions where they
     * were placed, its interrupts (level for automasked IRQs, else edge) and the properties the device
     * declared (a kernel device: its host {@code of_node}'s). With {@code x-dt-node} the user's node takes
     * the place of the compatible strings and declared properties, patched with the regions and
     * interrupts. Returns the node's path.
     */
    public String addTo(PlatformBusTree tree) {
        List<String> compatibles = compatibles();
        List<PlatformBusTree.MmioRange> ranges = regions.stream()
                .map(r -> new PlatformBusTree.MmioRange(r.guestBase(), r.info().size()))
                .toList();
        List<PlatformBusTree.Interrupt> interrupts = irqs.stream()
                .map(w -> new PlatformBusTree.Interrupt(
                        w.gsi(), w.info().automasked() ? PlatformBusTree.Trigger.LEVEL : PlatformBusTree.Trigger.EDGE))
                .toList();
        if (dtOverlay.isPresent()) {
            return tree.addDevice(nodeName(), compatibles, ranges, interrupts, dtOverlay.get());
        }
        List<Property> extra = identity.map(id -> id.properties().entrySet().stream()
                        .map(e -> Property.bytes(e.getKey(), e.getValue()))
                        .toList())
                .orElse(List.of());
        return tree.addDevice(nodeName(), compatibles, ranges, interrupts, extra);
    }

    /**
     * This device's node in the DSDT a Linux guest gets, from the same placement as its device-tree node:
     * {@code _HID} from its compatible strings (or {@code x-acpi-hid}), the first {@code _UID} free for that
     * {@code _HID}, its regions as Memory32Fixed and its GSIs as Interrupt descriptors (level for
     * automasked IRQs, else edge; active high). Named {@code VFnn}, the first such name free (a device
     * closed before the machine started gave its name and {@code _UID} back).
     */
    public AcpiDevice acpiDevice() {
        return acpiDevice;
    }

    private AcpiDevice describeInAcpi() throws VfioException {
        List<AcpiDevice> described = machine.acpiDevices();
        Set<String> names = described.stream().map(AcpiDevice::name).collect(Collectors.toSet());
        String acpiName = IntStream.rangeClosed(0, 0xFF)
                .mapToObj(n -> String.format("%s%02X", ACPI_NAME_PREFIX, n))
                .filter(candidate -> !names.contains(candidate))
                .findFirst()
                .orElseThrow(() ->
                        new VfioException(name, "ACPI names VF00-VFFF are all taken: at most 256 assigned devices"));
        AcpiDevice.Builder builder =
                CompatibleIds.describe(acpiName, compatibles(), config.acpiHid().map(HardwareId::string));
        Set<Long> uids = described.stream()
                .filter(d -> d.hardwareId().id().equals(builder.hardwareId().id()))
                .map(AcpiDevice::uid)
                .collect(Collectors.toSet());
        builder.uid(LongStream.iterate(0, uid -> uid + 1)
                .filter(uid -> !uids.contains(uid))
                .findFirst()
                .orElseThrow());
        regions.forEach(r -> builder.mmio(r.guestBase(), r.info().size()));
        irqs.forEach(w -> builder.interrupt(
                w.gsi(),
                w.info().automasked()
                        ? ResourceDescriptor.ExtendedInterrupt.Trigger.LEVEL
                        : ResourceDescriptor.ExtendedInterrupt.Trigger.EDGE));
        return builder.build();
    }

    /** The device's compatible strings: the one it is assigned as first, then the others it declared. */
    private List<String> compatibles() {
        List<String> compatibles = new ArrayList<>();
        compatibles.add(compatible);
        identity.ifPresent(id ->
                id.compatible().stream().filter(c -> !compatibles.contains(c)).forEach(compatibles::add));
        return compatibles;
    }

    /** The root node of the {@code x-dt-node} blob, read before anything is set up so a bad file changes nothing. */
    private Optional<Node> readDtOverlay() throws IOException {
        if (config.dtNode().isEmpty()) {
            return Optional.empty();
        }
        Path file = config.dtNode().get();
        try {
            return Optional.of(FdtReader.read(file).root());
        } catch (IOException e) {
            throw new VfioException(
                    name, "property 'x-dt-node': cannot use " + file + " as a device-tree node: " + e.getMessage(), e);
        }
    }

    /**
     * The device's node name: its {@code id=} if given, else the model part of its compatible
     * ({@code test-device} of {@code jvfio,test-device}), as device trees name nodes after what a device is;
     * dtc's characters only, at most 31 of them.
     */
    private String nodeName() {
        String model = compatible.substring(compatible.indexOf(',') + 1);
        String base = config.idGiven() ? name : model.isEmpty() ? compatible : model;
        String cleaned = base.replaceAll("[^A-Za-z0-9,._+-]", "-");
        return cleaned.length() > 31 ? cleaned.substring(0, 31) : cleaned;
    }

    /**
     * Machine reset: resets the device if it offers reset, then returns every user-side IRQ to INACTIVE
     * with its line low and the fast path on, unmasking at the device a level IRQ the guest never ended;
     * the device first, so a line it asserted before its reset does not fire into the guest being reset.
     */
    public void reset() throws IOException {
        try {
            if (info.supportsReset()) {
                device.reset();
            } else {
                LOG.log(
                        System.Logger.Level.INFO,
                        "vfio " + name + ": the device offers no reset; only its IRQ state is reset");
            }
        } finally {
            if (controller != null) {
                controller.reset();
            }
        }
    }

    /**
     * Multi-device hot reset is what QEMU's PCI code does for devices sharing a reset domain; a
     * platform device has no such domain, so this refuses clearly instead of resetting part of one.
     */
    public static void hotReset(List<VfioPlatformDevice> devices) throws VfioException {
        throw new VfioException(
                devices.isEmpty() ? "-" : devices.getFirst().name(),
                "multi-device hot reset is not supported for platform devices: reset each device on its own");
    }

    /** VFIO platform devices cannot migrate: their state lives in hardware (or another process) jvfio cannot save. */
    public void migrate() throws VfioException {
        throw new VfioException(name, "migration is not supported: a VFIO platform device's state cannot be saved");
    }

    /**
     * Tears the assignment down: IRQs, fast paths, bus ranges, DMA map, then the device; its MMIO ranges
     * and GSIs go back to the machine's platform bus for the next device, and before the machine starts
     * its boot-info and DSDT entries go too.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        counters.unregister();
        for (PlatformIrqWiring wiring : irqs) {
            closeIrq(wiring);
        }
        if (controller != null) {
            controller.close();
        }
        // de-assigned while their eventfds are still open: KVM finds a registration by its eventfd
        for (PostedWrite posted : postedWrites) {
            posted.registration().close();
            posted.offered().close();
        }
        postedWrites.clear();
        for (PlatformRegion region : regions) {
            region.close();
            machine.mmio().remove(region.guestBase());
        }
        for (long size : goneReason == null ? dmaMaps : List.<Long>of()) {
            try {
                device.unmapDma(0, size);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "vfio " + name + ": DMA unmap: " + e.getMessage());
            }
        }
        device.close();
        machine.withdrawDevice(bootInfoEntry, acpiDevice);
        busLease.close();
    }

    private void closeIrq(PlatformIrqWiring wiring) {
        stopDelivery(wiring);
        if (goneReason == null) {
            try {
                device.setIrqs(IrqSet.disableAll(wiring.info().index()));
            } catch (IOException | RuntimeException e) {
                LOG.log(
                        System.Logger.Level.DEBUG,
                        "vfio " + name + ": tearing down IRQ " + wiring.info().index() + ": " + e.getMessage());
            }
        }
        wiring.trigger().close();
        wiring.unmask().ifPresent(EventFd::close);
    }

    /**
     * Stops an IRQ's delivery to the guest: its event-loop handler, or its irqfd (KVM lowers a
     * resampled line when the irqfd goes). Idempotent.
     */
    private synchronized void stopDelivery(PlatformIrqWiring wiring) {
        if (!delivering.remove(wiring.info().index())) {
            return;
        }
        try {
            if (wiring.eventLoopToken() != PlatformIrqWiring.NO_TOKEN) {
                machine.eventLoop().unregister(wiring.eventLoopToken());
            }
            EoiRegistration eoiObserver = guestEoiObservers.remove(wiring.info().index());
            if (eoiObserver != null) {
                eoiObserver.close();
            }
            if (wiring.path() == IrqPath.IRQFD) {
                IrqLine line = machine.irqLine(wiring.gsi());
                line.unregisterIrqfd(wiring.trigger());
                line.lower();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.DEBUG,
                    "vfio " + name + ": stopping IRQ " + wiring.info().index() + ": " + e.getMessage());
        }
    }

    /**
     * A region as placed in the guest, with its trap counters.
     *
     * @param fastPath       whether the region has mmap'ed subregions at all
     * @param fastPathMapped whether they are mapped into the guest now (off while an IRQ is ACTIVE on the
     *                       user-side path, and for good once the device is gone)
     * @param readPath       whether some of its reads come from a read-only memory slot (its writes trap)
     * @param postedWrites   the offsets of the device's ioeventfds that KVM signals for the guest's writes
     *                       now (a write there with the datamatch never exits), one per ioeventfd; off, like
     *                       the fast path, while an IRQ the seed's EOI heuristic ends is ACTIVE
     */
    public record PlacedRegion(
            RegionInfo info,
            long guestBase,
            boolean fastPath,
            boolean fastPathMapped,
            boolean readPath,
            long trappedReads,
            long trappedWrites,
            long failedAccesses,
            List<Long> postedWrites) {}

    /** An IRQ's GSI and how it is delivered. */
    public record WiredIrq(IrqInfo info, int gsi, IrqPath path) {}
}
