package io.jvfio.machine.irqchip;

import io.jvfio.kvm.Vcpu;
import io.jvfio.machine.bus.BusDevice;
import io.jvfio.sys.ErrnoException;
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
 * interrupt-window exit). A vCPU inside KVM_RUN when an interrupt arrives for it is kicked at once.
 *
 * <p>One lock guards every APIC: interrupts are rare next to the work they cause, and one lock makes
 * the IOAPIC's EOI handling and a LAPIC's acceptance one atomic step. Listeners of a pin's EOI run
 * after the lock is released, so they may raise and lower lines and take locks of their own.
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
    private final LocalApic[] apics;
    private final Condition[] interruptible;
    private final boolean[] inGuest;
    private final Runnable[] cancelTimer;
    private final List<List<Runnable>> eoiListeners = new ArrayList<>();
    private final List<Integer> endedPins = new ArrayList<>();
    private final long[] windowRequests;
    private final long[] kicks;
    private final long[] halts;
    private final long[] haltWaits;
    private final Clock clock;
    private final VcpuKicker kicker;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private boolean stopped;

    public UserIrqchip(int vcpus, Clock clock, VcpuKicker kicker) {
        this.clock = clock;
        this.kicker = kicker;
        this.ioApic = new IoApic(this::deliverFromIoApic);
        this.apics = new LocalApic[vcpus];
        this.interruptible = new Condition[vcpus];
        this.inGuest = new boolean[vcpus];
        this.cancelTimer = new Runnable[vcpus];
        this.windowRequests = new long[vcpus];
        this.kicks = new long[vcpus];
        this.halts = new long[vcpus];
        this.haltWaits = new long[vcpus];
        LocalApic.ApicBus bus = new Bus();
        for (int i = 0; i < vcpus; i++) {
            apics[i] = new LocalApic(i, bus);
            interruptible[i] = lock.newCondition();
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

    /** A read by vCPU {@code vcpu} of its LAPIC's page. */
    public long readLocalApic(int vcpu, long offset, int size) {
        return underLock(() -> apics[vcpu].read(offset, size));
    }

    /** A write by vCPU {@code vcpu} to its LAPIC's page (an EOI among them). */
    public void writeLocalApic(int vcpu, long offset, int size, long value) {
        changeAndNotify(() -> apics[vcpu].write(offset, size, value));
    }

    /** Sets the input line of IOAPIC pin {@code pin}. */
    public void setLevel(int pin, boolean level) {
        checkPin(pin);
        changeAndNotify(() -> ioApic.setInput(pin, level));
    }

    /** Whether pin {@code pin} has a level interrupt in service in the guest (its remote IRR). */
    public boolean inService(int pin) {
        checkPin(pin);
        return underLock(() -> ioApic.remoteIrr(pin));
    }

    /**
     * KVM's irqfd resample semantics on jvfio's IOAPIC: each guest EOI of pin {@code pin}'s interrupt lowers
     * its input before the IOAPIC looks at it again, then runs {@code listener} (outside the lock), which
     * raises the line again if its source still asserts. Closing the result removes it.
     */
    public EoiRegistration resampleOnEndOfInterrupt(int pin, Runnable listener) {
        checkPin(pin);
        underLock(() -> ioApic.countResampler(pin, 1));
        EoiRegistration observer = onEndOfInterrupt(pin, listener);
        return () -> {
            observer.close();
            underLock(() -> ioApic.countResampler(pin, -1));
        };
    }

    /** IOAPIC pin {@code pin}'s 64-bit redirection entry. */
    public long redirectionEntry(int pin) {
        checkPin(pin);
        return underLock(() -> ioApic.redirectionEntry(pin));
    }

    private <T> T underLock(Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }

    private void underLock(Runnable change) {
        lock.lock();
        try {
            change.run();
        } finally {
            lock.unlock();
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
            change.run();
        } finally {
            unlockAndNotify();
        }
    }

    private void unlockAndNotify() {
        Integer[] ended = endedPins.isEmpty() ? null : endedPins.toArray(Integer[]::new);
        endedPins.clear();
        lock.unlock();
        if (ended != null) {
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
    }

    /**
     * On vCPU {@code vcpu}'s thread, right before KVM_RUN: hands the guest the interrupt it should take
     * next if it can take one now, else asks KVM for an exit when it can. Then the vCPU counts as in the
     * guest, so an interrupt that arrives from here on kicks it.
     */
    public void beforeEntry(int vcpu, Vcpu cpu) throws ErrnoException {
        lock.lock();
        try {
            LocalApic apic = apics[vcpu];
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
                windowRequests[vcpu]++;
            }
            cpu.requestInterruptWindow(window);
            inGuest[vcpu] = true;
        } finally {
            lock.unlock();
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
            return takeInterrupt(apics[vcpu]);
        } finally {
            lock.unlock();
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

    /** On vCPU {@code vcpu}'s thread, right after KVM_RUN returned. */
    public void afterExit(int vcpu) {
        lock.lock();
        try {
            inGuest[vcpu] = false;
        } finally {
            lock.unlock();
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
            halts[vcpu]++;
            boolean waited = false;
            while (!stopped && (!interruptsEnabled || apics[vcpu].deliverableVector() < 0)) {
                if (!waited) {
                    waited = true;
                    haltWaits[vcpu]++;
                }
                interruptible[vcpu].await();
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
            for (int i = 0; i < apics.length; i++) {
                interruptible[i].signalAll();
                if (cancelTimer[i] != null) {
                    cancelTimer[i].run();
                    cancelTimer[i] = null;
                }
                apics[i].reset();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called under the lock after a LAPIC accepted an interrupt: wakes or kicks its vCPU. */
    private void interruptArrived(int vcpu) {
        if (apics[vcpu].deliverableVector() < 0) {
            return;
        }
        interruptible[vcpu].signalAll();
        if (inGuest[vcpu]) {
            kicks[vcpu]++;
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
        for (LocalApic apic : apics) {
            boolean addressed =
                    logical ? apic.matchesLogical(destination) : destination == BROADCAST || apic.id() == destination;
            if (addressed && apic.accept(vector, level)) {
                accepted = true;
                interruptArrived(apic.index());
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
        lock.lock();
        try {
            List<ApicCounters> lapics = new ArrayList<>();
            for (int i = 0; i < apics.length; i++) {
                lapics.add(apics[i].counters(windowRequests[i], kicks[i], halts[i], haltWaits[i]));
            }
            long[] deliveries = new long[IoApic.PINS];
            long[] eois = new long[IoApic.PINS];
            for (int pin = 0; pin < IoApic.PINS; pin++) {
                deliveries[pin] = ioApic.deliveries(pin);
                eois[pin] = ioApic.endsOfInterrupt(pin);
            }
            return new IrqchipCounters(lapics, deliveries, eois);
        } finally {
            lock.unlock();
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
                source.sendError(LocalApic.ESR_SEND_ILLEGAL_VECTOR);
                return;
            }
            for (LocalApic apic : apics) {
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
            if (cancelTimer[vcpu] != null) {
                cancelTimer[vcpu].run();
            }
            cancelTimer[vcpu] = clock.schedule(delayNanos, () -> timerExpired(vcpu, generation));
        }

        @Override
        public long nanoTime() {
            return clock.nanoTime();
        }
    }

    private void timerExpired(int vcpu, long generation) {
        changeAndNotify(() -> {
            if (!stopped) {
                apics[vcpu].timerExpired(generation);
                interruptArrived(vcpu);
            }
        });
    }
}
