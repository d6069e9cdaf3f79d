package io.jvfio.machine.irqchip;

import io.jvfio.kvm.Vcpu;
import io.jvfio.machine.bus.BusDevice;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.kvm.ring.CoalescedMmioRing;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * jvfio's own irqchip ({@code kernel-irqchip=off}): an {@link IoApic} and a {@link LocalApic} per vCPU in
 * user space. KVM then has no LAPIC of its own: the guest's APIC accesses exit as MMIO, {@code hlt} exits
 * to the vCPU thread, which waits here until an interrupt can be taken, and an interrupt is handed to
 * the vCPU with KVM_INTERRUPT once kvm_run says the guest can take one (else KVM is asked for an
 * interrupt-window exit, and KVM_RUN may also end every so often until the window is open: {@link
 * WindowLooks}). A vCPU inside KVM_RUN when an interrupt arrives for it is kicked at once.
 *
 * <p>One lock guards every APIC: interrupts are rare next to the work they cause, and one lock makes
 * the IOAPIC's EOI handling and a LAPIC's acceptance one atomic step. Listeners of a pin's EOI run
 * after the lock is released, so they may raise and lower lines and take locks of their own.
 *
 * <p>Queued EOIs ({@link #queueEndsOfInterrupt}): with one vCPU the guest's EOI writes may be queued by
 * KVM in the coalesced MMIO ring instead of exiting. Such an EOI takes effect when the ring is drained
 * into the LAPIC, which happens under the lock at every KVM_RUN return before the exit is handled, in
 * every call that changes or reads the irqchip's state from outside the vCPU, and, while the vCPU could
 * be running the guest with an EOI queued that matters (a vector waits in IRR, or a level vector is in
 * service), at least every {@link #QUEUED_EOI_DRAIN_NANOS} from the clock; a drain that makes a vector
 * deliverable kicks the vCPU as an arriving interrupt does. docs/irq-state-machine.md gives the bound.
 */
public final class UserIrqchip {
    private static final System.Logger LOG = System.getLogger(UserIrqchip.class.getName());
    private static final int DELIVERY_FIXED = 0;
    private static final int DELIVERY_LOWEST_PRIORITY = 1;
    private static final int SHORTHAND_NONE = 0;
    private static final int SHORTHAND_SELF = 1;
    private static final int SHORTHAND_ALL = 2;
    private static final int BROADCAST = 0xFF;

    /** The vCPU side of a LAPIC: how to reach its thread while it runs the guest. */
    @FunctionalInterface
    public interface VcpuKicker {
        void kick(int vcpu);
    }

    /** The time and the one-shot callbacks the LAPIC timers need (the machine's event loop). */
    public interface Clock {
        long nanoTime();

        Runnable schedule(long delayNanos, Runnable task);
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final IoApic ioApic;
    private final VcpuSide[] vcpus;
    private final List<List<Runnable>> eoiListeners = new ArrayList<>();
    private final List<Integer> endedPins = new ArrayList<>();
    private final Clock clock;
    private final VcpuKicker kicker;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private boolean stopped;
    /** The ring vCPU {@link #queuedVcpu}'s EOI writes may be queued in, or null: every EOI exits. */
    private CoalescedMmioRing queuedWrites;

    private int queuedVcpu;
    private boolean drainArmed;
    /** EOI listeners of pins that a drain outside the vCPU and the clock ended, run later by the clock. */
    private boolean deferEndOfInterruptListeners;

    /**
     * How long an EOI queued in the coalesced MMIO ring may wait for a drain while the vCPU runs the
     * guest without exits and the EOI matters: a vector in IRR waits for it, or a level pin's device
     * waits for its unmask. 1 ms: a software KVM's in-kernel LAPIC makes an interrupt for a running guest
     * wait 0.8-1.0 ms for the emulator's next batch, so the worst case stays that of the in-kernel
     * irqchip. Each drain is an event-loop wake-up, which on a 2-core host competes with the vCPU and the
     * device for a core: in the benchmarks' echo loop, where interrupts are in service back to back, 500
     * us cost 0.31 of them per interrupt (one every 600 us or so); 1 ms halves that.
     */
    public static final long QUEUED_EOI_DRAIN_NANOS = 1_000_000;

    /**
     * {@code lookAtWindows}: whether a vCPU whose interrupt waits for its window also leaves KVM_RUN every so
     * often to look ({@link WindowLooks}); where KVM's own window exit comes late ({@code IrqWindowProbe}).
     */
    public UserIrqchip(int vcpus, Clock clock, VcpuKicker kicker, boolean lookAtWindows) {
        this.clock = clock;
        this.kicker = kicker;
        this.ioApic = new IoApic(this::deliverFromIoApic);
        this.vcpus = new VcpuSide[vcpus];
        LocalApic.ApicBus bus = new Bus();
        for (int i = 0; i < vcpus; i++) {
            this.vcpus[i] = new VcpuSide(new LocalApic(i, bus), lock.newCondition(), new WindowLooks(lookAtWindows));
        }
        for (int pin = 0; pin < IoApic.PINS; pin++) {
            eoiListeners.add(new CopyOnWriteArrayList<>());
        }
    }

    public static int pins() {
        return IoApic.PINS;
    }

    /** The IOAPIC's page (0xFEC00000), for the machine's MMIO bus. */
    public BusDevice ioApicDevice() {
        return new BusDevice() {
            @Override
            public long read(long offset, int size) {
                return underLock(() -> ioApic.read(offset, size));
            }

            @Override
            public void write(long offset, int size, long value) {
                changeAndNotify(() -> ioApic.write(offset, size, value));
            }
        };
    }

    public static long ioApicBase() {
        return IoApic.BASE;
    }

    public static long ioApicSize() {
        return IoApic.SIZE;
    }

    public static long localApicBase() {
        return LocalApic.BASE;
    }

    public static long localApicSize() {
        return LocalApic.SIZE;
    }

    /** The guest-physical address of the LAPIC's EOI register, the one a coalesced MMIO zone may cover. */
    public static long endOfInterruptRegister() {
        return LocalApic.BASE + LocalApic.REG_EOI;
    }

    /**
     * From now on vCPU {@code vcpu}'s EOI writes may arrive queued in {@code ring}, the VM's coalesced MMIO
     * ring, whose zone covers no more than {@link #endOfInterruptRegister()}. The ring names no vCPU, so
     * only an irqchip with one vCPU takes it. Call before the vCPU runs.
     */
    public void queueEndsOfInterrupt(int vcpu, CoalescedMmioRing ring) {
        if (vcpus.length != 1) {
            throw new IllegalArgumentException("queued EOIs need a single vCPU (the coalesced MMIO ring names none),"
                    + " this irqchip has " + vcpus.length);
        }
        checkVcpu(vcpu);
        lock.lock();
        try {
            queuedWrites = ring;
            queuedVcpu = vcpu;
        } finally {
            lock.unlock();
        }
    }

    private void checkVcpu(int vcpu) {
        if (vcpu < 0 || vcpu >= vcpus.length) {
            throw new IllegalArgumentException("vCPU " + vcpu + " is not 0.." + (vcpus.length - 1));
        }
    }

    /** A read by vCPU {@code vcpu} of its LAPIC's page. */
    public long readLocalApic(int vcpu, long offset, int size) {
        return underLock(() -> vcpus[vcpu].apic.read(offset, size));
    }

    /** A write by vCPU {@code vcpu} to its LAPIC's page (an EOI among them). */
    public void writeLocalApic(int vcpu, long offset, int size, long value) {
        changeAndNotify(() -> vcpus[vcpu].apic.write(offset, size, value));
    }

    /** Asserts ({@code level} true) or de-asserts IOAPIC pin {@code pin}'s line, whatever its polarity. */
    public void setLevel(int pin, boolean level) {
        checkPin(pin);
        lockFromDevice();
        try {
            ioApic.setInput(pin, level);
        } finally {
            unlockAndNotify();
        }
    }

    /** Whether pin {@code pin} has a level interrupt in service in the guest (its remote IRR). */
    public boolean inService(int pin) {
        checkPin(pin);
        lockFromDevice();
        try {
            return ioApic.remoteIrr(pin);
        } finally {
            unlockAndNotify();
        }
    }

    /**
     * Takes the lock for a caller outside the vCPU and the clock, which may hold locks of its own (a
     * device raising its line): the EOIs the drain finds end their pins now, but the pins' listeners
     * run later on the clock, never inside the caller.
     */
    private void lockFromDevice() {
        lock.lock();
        deferEndOfInterruptListeners = true;
        drainQueuedWrites();
    }

    /**
     * KVM's irqfd resample semantics on jvfio's IOAPIC: each guest EOI of pin {@code pin}'s interrupt lowers
     * its input before the IOAPIC looks at it again, then runs {@code listener} (outside the lock), which
     * raises the line again if its source still asserts. Closing the result removes it.
     */
    public EoiRegistration resampleOnEndOfInterrupt(int pin, Runnable listener) {
        checkPin(pin);
        // The listener is there before an EOI can lower the input, and stays until none can: an EOI
        // between the two steps would otherwise lower a line with nobody to raise it again.
        EoiRegistration observer = onEndOfInterrupt(pin, listener);
        underLock(() -> ioApic.countResampler(pin, 1));
        return () -> {
            underLock(() -> ioApic.countResampler(pin, -1));
            observer.close();
        };
    }

    /** IOAPIC pin {@code pin}'s 64-bit redirection entry. */
    public long redirectionEntry(int pin) {
        checkPin(pin);
        lockFromDevice();
        try {
            return ioApic.redirectionEntry(pin);
        } finally {
            unlockAndNotify();
        }
    }

    private <T> T underLock(Supplier<T> read) {
        lockFromDevice();
        try {
            return read.get();
        } finally {
            unlockAndNotify();
        }
    }

    private void underLock(Runnable change) {
        lockFromDevice();
        try {
            change.run();
        } finally {
            unlockAndNotify();
        }
    }

    /**
     * Runs {@code listener} after each guest EOI that clears pin {@code pin}'s remote IRR, on the thread
     * of that EOI and outside the irqchip's lock. Closing the result removes it.
     */
    public EoiRegistration onEndOfInterrupt(int pin, Runnable listener) {
        checkPin(pin);
        List<Runnable> listeners = eoiListeners.get(pin);
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    private void checkPin(int pin) {
        if (pin < 0 || pin >= IoApic.PINS) {
            throw new IllegalArgumentException("IOAPIC pin " + pin + " is not 0.." + (IoApic.PINS - 1));
        }
    }

    /** Runs {@code change} under the lock, then the EOI listeners of the pins it ended, outside it. */
    private void changeAndNotify(Runnable change) {
        lock.lock();
        try {
            drainQueuedWrites();
            change.run();
        } finally {
            unlockAndNotify();
        }
    }

    /**
     * Releases the lock, first arming the drain of queued EOIs if one may now matter, then runs the EOI
     * listeners of the pins ended under it: here, or on the clock after {@link #lockFromDevice}.
     */
    private void unlockAndNotify() {
        Integer[] ended;
        boolean defer;
        try {
            armQueuedEoiDrain();
        } finally {
            ended = endedPins.isEmpty() ? null : endedPins.toArray(Integer[]::new);
            endedPins.clear();
            defer = deferEndOfInterruptListeners;
            deferEndOfInterruptListeners = false;
            lock.unlock();
        }
        if (ended == null) {
            return;
        }
        if (defer) {
            clock.schedule(0, () -> notifyEnded(ended));
        } else {
            notifyEnded(ended);
        }
    }

    private void notifyEnded(Integer[] ended) {
        for (int pin : ended) {
            IrqchipEoiEvent event = new IrqchipEoiEvent();
            if (event.shouldCommit()) {
                event.pin = pin;
                event.commit();
            }
            for (Runnable listener : eoiListeners.get(pin)) {
                listener.run();
            }
        }
    }

    /**
     * Under the lock: hands every write KVM queued in the coalesced MMIO ring to the LAPIC, in order; a
     * vector the EOIs made deliverable wakes or kicks the vCPU. Returns whether there was any.
     */
    private boolean drainQueuedWrites() {
        CoalescedMmioRing ring = queuedWrites;
        if (ring == null || ring.isEmpty()) {
            return false;
        }
        LocalApic apic = vcpus[queuedVcpu].apic;
        boolean deliverable = apic.deliverableVector() >= 0;
        ring.drain(this::queuedWrite);
        if (!deliverable) {
            interruptArrived(queuedVcpu);
        }
        return true;
    }

    private void queuedWrite(long address, int length, long data) {
        long offset = address - LocalApic.BASE;
        if (offset < 0 || offset >= LocalApic.SIZE) {
            reportOnce(
                    "queued write outside the lapic",
                    "a write to 0x" + Long.toHexString(address) + " came through the coalesced MMIO ring,"
                            + " which only the LAPIC's EOI register may use: it is dropped");
            return;
        }
        if (offset == LocalApic.REG_EOI) {
            vcpus[queuedVcpu].queuedEndsOfInterrupt++;
        }
        vcpus[queuedVcpu].apic.write(offset, length, data);
    }

    /**
     * Under the lock: while EOIs may be queued and one would change what the vCPU gets (a vector waits in
     * IRR, or a level vector is in service and its pin waits for the EOI), makes sure a drain comes within
     * {@link #QUEUED_EOI_DRAIN_NANOS}, whether or not the guest exits meanwhile.
     */
    private void armQueuedEoiDrain() {
        if (queuedWrites == null || drainArmed || stopped) {
            return;
        }
        if (vcpus[queuedVcpu].apic.endOfInterruptMatters()) {
            drainArmed = true;
            clock.schedule(QUEUED_EOI_DRAIN_NANOS, this::queuedEoiDrainDue);
        }
    }

    private void queuedEoiDrainDue() {
        lock.lock();
        try {
            drainArmed = false;
            if (queuedWrites != null) {
                VcpuSide side = vcpus[queuedVcpu];
                side.drainTicks++;
                if (drainQueuedWrites()) {
                    side.drainTickFinds++;
                }
            }
        } finally {
            unlockAndNotify();
        }
    }

    /** KVM's side of an injection: a {@link Vcpu}, or in tests a recorder that stands in for one. */
    interface InterruptEntry {
        /** kvm_run says an interrupt queued now is taken at the next entry. */
        boolean canTakeInterrupt();

        /** KVM_INTERRUPT. */
        void injectInterrupt(int vector) throws ErrnoException;

        /** kvm_run.request_interrupt_window. */
        void requestInterruptWindow(boolean requested);

        /** kvm_run.cr8: the guest's CR8 from the next entry on. */
        void setCr8(int cr8);

        /** The next KVM_RUN also returns after {@code firstNanos}, then every {@code periodNanos}. */
        void exitEvery(long firstNanos, long periodNanos);
    }

    /**
     * On vCPU {@code vcpu}'s thread, right before KVM_RUN: hands the guest the interrupt it should take
     * next if it can take one now, else asks KVM for an exit when it can. Then the vCPU counts as in the
     * guest, so an interrupt that arrives from here on kicks it.
     */
    public void beforeEntry(int vcpu, Vcpu cpu) throws ErrnoException {
        VcpuSide side = vcpus[vcpu];
        VcpuEntry entry = side.entry;
        if (entry == null || entry.cpu() != cpu) {
            // one adapter per vCPU thread, not one per KVM_RUN
            entry = new VcpuEntry(cpu);
            side.entry = entry;
        }
        beforeEntry(vcpu, entry);
    }

    private record VcpuEntry(Vcpu cpu) implements InterruptEntry {
        @Override
        public boolean canTakeInterrupt() {
            return cpu.canTakeInterrupt();
        }

        @Override
        public void injectInterrupt(int vector) throws ErrnoException {
            cpu.injectInterrupt(vector);
        }

        @Override
        public void requestInterruptWindow(boolean requested) {
            cpu.requestInterruptWindow(requested);
        }

        @Override
        public void setCr8(int cr8) {
            cpu.setCr8(cr8);
        }

        @Override
        public void exitEvery(long firstNanos, long periodNanos) {
            cpu.exitEvery(firstNanos, periodNanos);
        }
    }

    void beforeEntry(int vcpu, InterruptEntry cpu) throws ErrnoException {
        lock.lock();
        try {
            VcpuSide side = vcpus[vcpu];
            LocalApic apic = side.apic;
            side.cr8Given = apic.cr8();
            cpu.setCr8(side.cr8Given);
            int vector = apic.deliverableVector();
            if (vector >= 0 && cpu.canTakeInterrupt()) {
                takeInterrupt(apic);
                cpu.injectInterrupt(vector);
                IrqchipDeliveryEvent event = new IrqchipDeliveryEvent();
                if (event.shouldCommit()) {
                    event.vcpu = vcpu;
                    event.vector = vector;
                    event.commit();
                }
                vector = apic.deliverableVector();
            }
            boolean window = vector >= 0;
            if (window) {
                side.windowRequests++;
            }
            cpu.requestInterruptWindow(window);
            long firstLook = side.windowLooks.beforeRun(window);
            if (firstLook > 0) {
                cpu.exitEvery(firstLook, side.windowLooks.period());
            }
            side.inGuest = true;
        } finally {
            unlockAndNotify();
        }
    }

    /**
     * Interrupt acknowledge without KVM: vCPU {@code vcpu} takes the interrupt its LAPIC would hand it
     * now, as {@link #beforeEntry} does right before KVM_INTERRUPT; returns its vector, or -1 if there is
     * none it can take. It puts a vector in service, so tests reach the EOI paths without a {@link Vcpu}.
     */
    int acknowledge(int vcpu) {
        lock.lock();
        try {
            return takeInterrupt(vcpus[vcpu].apic);
        } finally {
            unlockAndNotify();
        }
    }

    /** The interrupt acknowledge cycle: the deliverable vector, now in service, or -1. Under the lock. */
    private static int takeInterrupt(LocalApic apic) {
        int vector = apic.deliverableVector();
        if (vector >= 0) {
            apic.acknowledge(vector);
        }
        return vector;
    }

    /**
     * On vCPU {@code vcpu}'s thread, right after KVM_RUN returned and before its exit is handled: the EOIs
     * the guest queued before the exit take effect first, as they came first, and so does a CR8 the guest
     * wrote, since CR8 is the LAPIC's task-priority class (a lowered one may let an interrupt in: KVM exits
     * for that with KVM_EXIT_SET_TPR).
     */
    public void afterExit(int vcpu, Vcpu cpu) {
        afterExit(vcpu, cpu.cr8());
    }

    /** {@link #afterExit(int, Vcpu)} with the guest's CR8 at the exit. */
    void afterExit(int vcpu, int cr8) {
        lock.lock();
        try {
            VcpuSide side = vcpus[vcpu];
            side.inGuest = false;
            drainQueuedWrites();
            if (side.cr8Given >= 0 && cr8 != side.cr8Given) {
                side.apic.writeCr8(cr8);
            }
        } finally {
            unlockAndNotify();
        }
    }

    /**
     * The guest ran {@code hlt} (KVM_EXIT_HLT): waits until its LAPIC has an interrupt it can take, or
     * until {@link #stop}. With interrupts disabled ({@code cli; hlt}) only a stop ends the wait, as on
     * a real CPU.
     */
    public void halt(int vcpu, boolean interruptsEnabled) throws InterruptedException {
        lock.lock();
        try {
            VcpuSide side = vcpus[vcpu];
            side.halts++;
            side.windowLooks.halted();
            boolean waited = false;
            while (!stopped && (!interruptsEnabled || side.apic.deliverableVector() < 0)) {
                if (!waited) {
                    waited = true;
                    side.haltWaits++;
                }
                side.interruptible.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends every {@link #halt} wait for good (the machine is stopping) and stops the LAPIC timers. */
    public void stop() {
        lock.lock();
        try {
            stopped = true;
            // The vCPU mapping that holds the ring is unmapped after the machine stops.
            queuedWrites = null;
            for (VcpuSide side : vcpus) {
                side.interruptible.signalAll();
                if (side.cancelTimer != null) {
                    side.cancelTimer.run();
                    side.cancelTimer = null;
                }
                side.apic.reset();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called under the lock after a LAPIC accepted an interrupt: wakes or kicks its vCPU. */
    private void interruptArrived(int vcpu) {
        VcpuSide side = vcpus[vcpu];
        if (side.apic.deliverableVector() < 0) {
            return;
        }
        side.interruptible.signalAll();
        if (side.inGuest) {
            side.kicks++;
            kicker.kick(vcpu);
        }
    }

    private boolean deliverFromIoApic(int vector, int deliveryMode, boolean logical, int destination, boolean level) {
        if (deliveryMode != DELIVERY_FIXED && deliveryMode != DELIVERY_LOWEST_PRIORITY) {
            reportOnce(
                    "ioapic delivery mode " + deliveryMode,
                    "an IOAPIC entry asks for delivery mode " + deliveryMode
                            + " (only fixed and lowest priority are modelled): the interrupt is dropped");
            return false;
        }
        boolean accepted = false;
        for (VcpuSide side : vcpus) {
            LocalApic apic = side.apic;
            boolean addressed =
                    logical ? apic.matchesLogical(destination) : destination == BROADCAST || apic.id() == destination;
            if (!addressed) {
                continue;
            }
            boolean took = apic.accept(vector, level);
            // A refused illegal vector raises the LVT error interrupt (SDM 11.5.3): it arrives too.
            interruptArrived(apic.index());
            if (took) {
                accepted = true;
                if (deliveryMode == DELIVERY_LOWEST_PRIORITY) {
                    break;
                }
            }
        }
        return accepted;
    }

    private void reportOnce(String cause, String message) {
        if (reported.add(cause)) {
            LOG.log(System.Logger.Level.WARNING, "irqchip: " + message);
        }
    }

    /** Per-vCPU and per-pin counts since the machine started. */
    public IrqchipCounters counters() {
        lockFromDevice();
        try {
            List<ApicCounters> lapics = new ArrayList<>();
            for (VcpuSide side : vcpus) {
                lapics.add(side.counters());
            }
            long[] deliveries = new long[IoApic.PINS];
            long[] eois = new long[IoApic.PINS];
            for (int pin = 0; pin < IoApic.PINS; pin++) {
                deliveries[pin] = ioApic.deliveries(pin);
                eois[pin] = ioApic.endsOfInterrupt(pin);
            }
            return new IrqchipCounters(lapics, deliveries, eois);
        } finally {
            unlockAndNotify();
        }
    }

    private final class Bus implements LocalApic.ApicBus {
        @Override
        public void sendIpi(LocalApic source, int icrLow, int destination) {
            int vector = icrLow & 0xFF;
            int mode = icrLow >>> LocalApic.ICR_DELIVERY_MODE_SHIFT & 7;
            int shorthand = icrLow >>> LocalApic.ICR_SHORTHAND_SHIFT & 3;
            boolean logical = (icrLow & LocalApic.ICR_LOGICAL_DESTINATION) != 0;
            if (mode != DELIVERY_FIXED && mode != DELIVERY_LOWEST_PRIORITY) {
                reportOnce(
                        "ipi delivery mode " + mode,
                        "vCPU " + source.index() + " sent an IPI with delivery mode " + mode
                                + " (only fixed IPIs are modelled): it is dropped");
                return;
            }
            if (vector < 16) {
                source.signalError(LocalApic.ESR_SEND_ILLEGAL_VECTOR);
                return;
            }
            for (VcpuSide side : vcpus) {
                LocalApic apic = side.apic;
                boolean addressed = switch (shorthand) {
                    case SHORTHAND_NONE ->
                        logical
                                ? apic.matchesLogical(destination)
                                : destination == BROADCAST || apic.id() == destination;
                    case SHORTHAND_SELF -> apic == source;
                    case SHORTHAND_ALL -> true;
                    default -> apic != source;
                };
                if (addressed && apic.accept(vector, false)) {
                    interruptArrived(apic.index());
                    if (mode == DELIVERY_LOWEST_PRIORITY) {
                        break;
                    }
                }
            }
        }

        @Override
        public void broadcastEndOfInterrupt(int vector) {
            ioApic.endOfInterrupt(vector, endedPins::add);
        }

        @Override
        public void scheduleTimer(LocalApic apic, long delayNanos, long generation) {
            int vcpu = apic.index();
            if (stopped) {
                return;
            }
            VcpuSide side = vcpus[vcpu];
            if (side.cancelTimer != null) {
                side.cancelTimer.run();
            }
            side.cancelTimer = clock.schedule(delayNanos, () -> timerExpired(vcpu, generation));
        }

        @Override
        public long nanoTime() {
            return clock.nanoTime();
        }
    }

    private void timerExpired(int vcpu, long generation) {
        changeAndNotify(() -> {
            if (!stopped) {
                vcpus[vcpu].apic.timerExpired(generation);
                interruptArrived(vcpu);
            }
        });
    }

    /** What the irqchip keeps of one vCPU besides its LAPIC: how its thread waits and runs, and its counts. */
    private static final class VcpuSide {
        final LocalApic apic;
        /** Signalled when the LAPIC has an interrupt the vCPU may take, or the machine stops. */
        final Condition interruptible;

        final WindowLooks windowLooks;
        /** Between {@link #beforeEntry} and {@link #afterExit}: an arriving interrupt must kick the vCPU. */
        boolean inGuest;
        /** Cancels the LAPIC timer's scheduled expiry, or null. */
        Runnable cancelTimer;
        /**
         * The CR8 the last entry gave KVM (the LAPIC's task-priority class), or -1 before the first: an exit
         * with another one is the guest's own write, and only that one may change the TPR, whose low bits a
         * CR8 cannot hold.
         */
        int cr8Given = -1;

        VcpuEntry entry;
        long windowRequests;
        long kicks;
        long halts;
        long haltWaits;
        long queuedEndsOfInterrupt;
        long drainTicks;
        long drainTickFinds;

        VcpuSide(LocalApic apic, Condition interruptible, WindowLooks windowLooks) {
            this.apic = apic;
            this.interruptible = interruptible;
            this.windowLooks = windowLooks;
        }

        ApicCounters counters() {
            return new ApicCounters(
                    apic.index(),
                    apic.accepted(),
                    apic.acknowledged(),
                    apic.endsOfInterrupt(),
                    apic.timerFires(),
                    windowRequests,
                    windowLooks.lookedRuns(),
                    kicks,
                    halts,
                    haltWaits,
                    queuedEndsOfInterrupt,
                    drainTicks,
                    drainTickFinds);
        }
    }
}
