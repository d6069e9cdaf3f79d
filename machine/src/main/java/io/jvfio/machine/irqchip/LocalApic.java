package io.jvfio.machine.irqchip;

import java.util.Arrays;

/**
 * One vCPU's local APIC in xAPIC mode, after the Intel SDM (vol. 3A, chapter 11): ID, version, TPR, PPR,
 * EOI, LDR, DFR, SVR with the spurious vector, ISR/TMR/IRR, ESR, ICR, the LVT entries, and the timer
 * (one-shot and periodic, with its divider). An accepted interrupt waits in IRR until the vCPU takes it
 * ({@link #acknowledge}); it is then in service until the guest's EOI, which ends the highest one in
 * service and, for a level-triggered vector, is broadcast to the IOAPIC. While a vector is in service,
 * vectors of its priority class and below wait: this is the behaviour a software KVM's in-kernel LAPIC
 * lacks, and the reason this model exists.
 *
 * <p>The timer counts at the 1 GHz bus clock KVM's LAPIC uses (1 ns per tick before the divider). TSC
 * deadline mode and x2APIC are not offered (the machine clears them from CPUID). Not thread-safe:
 * {@link UserIrqchip} calls it under its lock.
 */
final class LocalApic {
    static final long BASE = 0xFEE0_0000L;
    static final long SIZE = 0x1000;
    /** Version 0x14, highest LVT entry 5 (timer, thermal, performance, LINT0, LINT1, error). */
    static final int VERSION = 0x14 | 5 << 16;

    static final int REG_ID = 0x020;
    static final int REG_VERSION = 0x030;
    static final int REG_TPR = 0x080;
    static final int REG_APR = 0x090;
    static final int REG_PPR = 0x0A0;
    static final int REG_EOI = 0x0B0;
    static final int REG_RRD = 0x0C0;
    static final int REG_LDR = 0x0D0;
    static final int REG_DFR = 0x0E0;
    static final int REG_SVR = 0x0F0;
    static final int REG_ISR = 0x100;
    static final int REG_TMR = 0x180;
    static final int REG_IRR = 0x200;
    static final int REG_ESR = 0x280;
    static final int REG_ICR_LOW = 0x300;
    static final int REG_ICR_HIGH = 0x310;
    static final int REG_LVT_TIMER = 0x320;
    static final int REG_LVT_THERMAL = 0x330;
    static final int REG_LVT_PERFORMANCE = 0x340;
    static final int REG_LVT_LINT0 = 0x350;
    static final int REG_LVT_LINT1 = 0x360;
    static final int REG_LVT_ERROR = 0x370;
    static final int REG_TIMER_INITIAL = 0x380;
    static final int REG_TIMER_CURRENT = 0x390;
    static final int REG_TIMER_DIVIDE = 0x3E0;

    static final int SVR_ENABLED = 1 << 8;
    static final int LVT_MASKED = 1 << 16;
    static final int LVT_VECTOR = 0xFF;
    static final int TIMER_MODE_SHIFT = 17;
    static final int TIMER_ONE_SHOT = 0;
    static final int TIMER_PERIODIC = 1;
    static final int ICR_DELIVERY_MODE_SHIFT = 8;
    static final int ICR_LOGICAL_DESTINATION = 1 << 11;
    static final int ICR_SHORTHAND_SHIFT = 18;
    static final int ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
    static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
    /**
     * The shortest period of a periodic timer, KVM's default {@code min_timer_period_us}: a guest that asks
     * for less gets this, as on KVM's own LAPIC, rather than a callback on the machine's event loop every
     * few nanoseconds that would starve the devices sharing it.
     */
    static final long MIN_PERIODIC_NANOS = 200_000;

    private static final int LVT_ERROR = 5;
    /**
     * The writable bits of each LVT entry (SDM Figure 11-8), timer first: all have the vector and the mask;
     * thermal and performance add the delivery mode, LINT0/1 add it with polarity and trigger mode; the
     * rest is reserved or read-only (delivery status, LINT remote IRR) and reads 0. The timer's mode bits
     * are added in {@link #writeTimerLvt}.
     */
    private static final int[] LVT_WRITABLE = {0x1_00FF, 0x1_07FF, 0x1_07FF, 0x1_A7FF, 0x1_A7FF, 0x1_00FF};

    /** What a LAPIC asks of the rest of the irqchip: IPIs, EOI broadcasts, timer callbacks. */
    interface ApicBus {
        /** Sends the IPI just written to the ICR (fixed delivery only reaches a LAPIC). */
        void sendIpi(LocalApic source, int icrLow, int destination);

        /** The EOI of a level-triggered vector, for the IOAPIC. */
        void broadcastEndOfInterrupt(int vector);

        /** Calls {@link #timerExpired(long)} with {@code generation} after {@code delayNanos}. */
        void scheduleTimer(LocalApic apic, long delayNanos, long generation);

        long nanoTime();
    }

    private final int index;
    private final ApicBus bus;
    private final long[] irr = new long[4];
    private final long[] isr = new long[4];
    private final long[] tmr = new long[4];
    private int id;
    private int tpr;
    private int ldr;
    private int dfr;
    private int svr;
    private int esr;
    private int esrPending;
    private int icrLow;
    private int icrHigh;
    private final int[] lvt = new int[6];
    private int timerInitial;
    private int timerDivideConfig;
    /** When the current timer count started at {@link #timerInitial} (periodic: the current period). */
    private long timerStart;

    private boolean timerRunning;
    private long timerGeneration;

    private long accepted;
    private long acknowledged;
    private long endsOfInterrupt;
    private long timerFires;

    LocalApic(int index, ApicBus bus) {
        this.index = index;
        this.bus = bus;
        reset();
    }

    /** The state after power-on or INIT: APIC ID = vCPU index, everything masked, software-disabled. */
    void reset() {
        Arrays.fill(irr, 0);
        Arrays.fill(isr, 0);
        Arrays.fill(tmr, 0);
        Arrays.fill(lvt, LVT_MASKED);
        id = index;
        tpr = 0;
        ldr = 0;
        dfr = 0xFFFF_FFFF;
        svr = 0xFF;
        esr = 0;
        esrPending = 0;
        icrLow = 0;
        icrHigh = 0;
        timerInitial = 0;
        timerDivideConfig = 0;
        timerRunning = false;
        timerGeneration++;
    }

    int id() {
        return id;
    }

    int index() {
        return index;
    }

    boolean softwareEnabled() {
        return (svr & SVR_ENABLED) != 0;
    }

    /** Whether a logical destination (flat model only, DFR 0xF...) names this LAPIC. */
    boolean matchesLogical(int destination) {
        return (dfr >>> 28) == 0xF && ((ldr >>> 24) & destination) != 0;
    }

    /**
     * A fixed interrupt arrives from the IOAPIC, an IPI or this LAPIC's own LVT. Returns whether it was
     * accepted: a software-disabled LAPIC drops it (as KVM's does), and vectors 0-15 are illegal.
     */
    boolean accept(int vector, boolean level) {
        if (vector < 16) {
            signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
            return false;
        }
        if (!softwareEnabled()) {
            return false;
        }
        set(irr, vector, true);
        set(tmr, vector, level);
        accepted++;
        return true;
    }

    /** The vector the vCPU should take next, or -1: the highest in IRR above the processor priority. */
    int deliverableVector() {
        int vector = highest(irr);
        if (vector < 0 || !softwareEnabled()) {
            return -1;
        }
        return (vector & 0xF0) > (processorPriority() & 0xF0) ? vector : -1;
    }

    /** The vCPU takes {@code vector} (interrupt acknowledge): it leaves IRR and is in service. */
    void acknowledge(int vector) {
        set(irr, vector, false);
        set(isr, vector, true);
        acknowledged++;
    }

    int processorPriority() {
        int inService = highest(isr);
        int inServiceClass = inService < 0 ? 0 : inService & 0xF0;
        return (tpr & 0xF0) >= inServiceClass ? tpr & 0xFF : inServiceClass;
    }

    /**
     * Whether the guest's next EOI would change more than ISR: a vector waits in IRR (the EOI may let it
     * through), or a level vector is in service (its EOI reaches the IOAPIC).
     */
    boolean endOfInterruptMatters() {
        if (highest(isr) < 0) {
            return false;
        }
        for (int word = 0; word < 4; word++) {
            if (irr[word] != 0 || (isr[word] & tmr[word]) != 0) {
                return true;
            }
        }
        return false;
    }

    boolean inService(int vector) {
        return get(isr, vector);
    }

    boolean requested(int vector) {
        return get(irr, vector);
    }

    boolean levelTriggered(int vector) {
        return get(tmr, vector);
    }

    long read(long offset, int size) {
        if (size != 4 || (offset & 0xF) != 0) {
            return 0;
        }
        int register = (int) offset;
        int value = switch (register) {
            case REG_ID -> id << 24;
            case REG_VERSION -> VERSION;
            case REG_TPR -> tpr;
            case REG_APR, REG_RRD -> 0;
            case REG_PPR -> processorPriority();
            case REG_LDR -> ldr;
            case REG_DFR -> dfr;
            case REG_SVR -> svr;
            case REG_ESR -> esr;
            case REG_ICR_LOW -> icrLow;
            case REG_ICR_HIGH -> icrHigh;
            case REG_LVT_TIMER, REG_LVT_THERMAL, REG_LVT_PERFORMANCE, REG_LVT_LINT0, REG_LVT_LINT1, REG_LVT_ERROR ->
                lvt[(register - REG_LVT_TIMER) >> 4];
            case REG_TIMER_INITIAL -> timerInitial;
            case REG_TIMER_CURRENT -> timerCurrent();
            case REG_TIMER_DIVIDE -> timerDivideConfig;
            default -> {
                if (register >= REG_ISR && register < REG_ISR + 0x180) {
                    long[] bits = register < REG_TMR ? isr : register < REG_IRR ? tmr : irr;
                    int word = (register & 0x7F) >> 4;
                    yield (int) (bits[word >> 1] >>> ((word & 1) * 32));
                }
                yield 0;
            }
        };
        return Integer.toUnsignedLong(value);
    }

    void write(long offset, int size, long value) {
        if (size != 4 || (offset & 0xF) != 0) {
            return;
        }
        if (offset == REG_LVT_TIMER || offset == REG_TIMER_INITIAL || offset == REG_TIMER_DIVIDE || offset == REG_SVR) {
            expireIfDue();
        }
        int v = (int) value;
        switch ((int) offset) {
            case REG_ID -> id = v >>> 24;
            case REG_TPR -> tpr = v & 0xFF;
            case REG_EOI -> endOfInterrupt();
            case REG_LDR -> ldr = v & 0xFF00_0000;
            case REG_DFR -> dfr = v | 0x0FFF_FFFF;
            case REG_SVR -> writeSpuriousVector(v);
            case REG_ESR -> {
                esr = esrPending;
                esrPending = 0;
            }
            case REG_ICR_HIGH -> icrHigh = v & 0xFF00_0000;
            case REG_ICR_LOW -> {
                icrLow = v & ~(1 << 12);
                bus.sendIpi(this, icrLow, icrHigh >>> 24);
            }
            case REG_LVT_TIMER -> writeTimerLvt(v);
            case REG_LVT_THERMAL, REG_LVT_PERFORMANCE, REG_LVT_LINT0, REG_LVT_LINT1, REG_LVT_ERROR -> {
                int entry = ((int) offset - REG_LVT_TIMER) >> 4;
                lvt[entry] = softwareEnabled() ? v & LVT_WRITABLE[entry] : (v & LVT_WRITABLE[entry]) | LVT_MASKED;
            }
            case REG_TIMER_INITIAL -> startTimer(v);
            case REG_TIMER_DIVIDE -> writeTimerDivide(v);
            default -> {}
        }
    }

    /** CR8 in the guest's 64-bit mode: the task-priority class, TPR[7:4] (SDM 10.8.6.1). */
    int cr8() {
        return tpr >>> 4;
    }

    /** The guest wrote {@code cr8}: it becomes TPR[7:4], and TPR[3:0] are cleared, as in QEMU's LAPIC. */
    void writeCr8(int cr8) {
        tpr = (cr8 & 0xF) << 4;
    }

    /**
     * An error this LAPIC detected (an illegal vector received, or in an IPI it could not send): latches
     * {@code bits} for the next ESR write and signals the error through the LVT error entry unless it is
     * masked (SDM 11.5.3). An illegal vector there is only latched, so an error never makes another.
     */
    void signalError(int bits) {
        esrPending |= bits;
        int entry = lvt[LVT_ERROR];
        if ((entry & LVT_MASKED) == 0 && (entry & LVT_VECTOR) >= 16) {
            accept(entry & LVT_VECTOR, false);
        }
    }

    private void writeSpuriousVector(int v) {
        svr = v & 0x1FF;
        if (!softwareEnabled()) {
            for (int i = 0; i < lvt.length; i++) {
                lvt[i] |= LVT_MASKED;
            }
        }
    }

    private void endOfInterrupt() {
        int vector = highest(isr);
        if (vector < 0) {
            return;
        }
        set(isr, vector, false);
        endsOfInterrupt++;
        if (get(tmr, vector)) {
            bus.broadcastEndOfInterrupt(vector);
        }
    }

    /**
     * Without TSC-deadline mode (not in the guest's CPUID) only bit 17 selects the timer mode and bit 18
     * is reserved (SDM 11.5.4.1), so a write of mode 10b is one-shot.
     */
    private void writeTimerLvt(int v) {
        int written = v & (LVT_WRITABLE[0] | TIMER_PERIODIC << TIMER_MODE_SHIFT);
        if (!softwareEnabled()) {
            written |= LVT_MASKED;
        }
        int oldMode = timerMode();
        lvt[0] = written;
        if (timerMode() != oldMode) {
            stopTimer();
        }
    }

    private int timerMode() {
        return lvt[0] >>> TIMER_MODE_SHIFT & 3;
    }

    /** The divide configuration's bits 0, 1 and 3 select 2, 4, 8, 16, 32, 64, 128 or 1. */
    long divisor() {
        int code = (timerDivideConfig & 3) | (timerDivideConfig >> 1 & 4);
        return code == 7 ? 1 : 2L << code;
    }

    private void writeTimerDivide(int v) {
        long current = Integer.toUnsignedLong(timerCurrent());
        timerDivideConfig = v & 0xB;
        if (timerRunning) {
            long elapsedTicks = Integer.toUnsignedLong(timerInitial) - current;
            timerStart = bus.nanoTime() - elapsedTicks * divisor();
            scheduleExpiry();
        }
    }

    private void startTimer(int initial) {
        timerInitial = initial;
        if (initial == 0) {
            stopTimer();
            return;
        }
        timerRunning = true;
        timerStart = bus.nanoTime();
        scheduleExpiry();
    }

    private void stopTimer() {
        timerRunning = false;
        timerGeneration++;
    }

    /** The time the count takes to run out; a periodic timer's is at least {@link #MIN_PERIODIC_NANOS}. */
    private long periodNanos() {
        long nanos = Integer.toUnsignedLong(timerInitial) * divisor();
        return timerMode() == TIMER_PERIODIC ? Math.max(nanos, MIN_PERIODIC_NANOS) : nanos;
    }

    private void scheduleExpiry() {
        long generation = ++timerGeneration;
        long delay = Math.max(0, timerStart + periodNanos() - bus.nanoTime());
        bus.scheduleTimer(this, delay, generation);
    }

    /**
     * The count register: what is left of the current period, 0 once a one-shot count has run out. A
     * periodic count is reloaded when it runs out even if the expiry's callback is late, and rests at 0
     * only for the rest of a period stretched to {@link #MIN_PERIODIC_NANOS}.
     */
    private int timerCurrent() {
        if (!timerRunning) {
            return 0;
        }
        long elapsed = bus.nanoTime() - timerStart;
        if (timerMode() == TIMER_PERIODIC) {
            elapsed %= periodNanos();
        }
        long left = Integer.toUnsignedLong(timerInitial) - elapsed / divisor();
        return left <= 0 ? 0 : (int) left;
    }

    /**
     * Runs the expiry now if the count ran out before now and its callback is still to come (the event
     * loop runs it late): the interrupt was raised when the count reached 0 (SDM 11.5.4), with the LVT
     * then in force, so a write that restarts, stops, re-divides, masks or disables the timer after
     * that does not take it back.
     */
    private void expireIfDue() {
        if (timerRunning && bus.nanoTime() - timerStart >= periodNanos()) {
            timerExpired(timerGeneration);
        }
    }

    /**
     * The timer callback: a stale generation (the timer was stopped or restarted since) is ignored.
     * Delivers the LVT timer vector unless masked, and starts the next period of a periodic timer
     * from where the last one was due, so the periods do not drift.
     */
    void timerExpired(long generation) {
        if (generation != timerGeneration || !timerRunning) {
            return;
        }
        timerFires++;
        if ((lvt[0] & LVT_MASKED) == 0) {
            accept(lvt[0] & LVT_VECTOR, false);
        }
        if (timerMode() == TIMER_PERIODIC) {
            long period = periodNanos();
            long now = bus.nanoTime();
            long due = timerStart + period;
            timerStart = now - due > period ? now : due;
            scheduleExpiry();
        } else {
            timerRunning = false;
        }
    }

    long accepted() {
        return accepted;
    }

    long acknowledged() {
        return acknowledged;
    }

    long endsOfInterrupt() {
        return endsOfInterrupt;
    }

    long timerFires() {
        return timerFires;
    }

    private static boolean get(long[] bits, int vector) {
        return (bits[vector >> 6] >>> (vector & 63) & 1) != 0;
    }

    private static void set(long[] bits, int vector, boolean value) {
        if (value) {
            bits[vector >> 6] |= 1L << (vector & 63);
        } else {
            bits[vector >> 6] &= ~(1L << (vector & 63));
        }
    }

    private static int highest(long[] bits) {
        for (int word = 3; word >= 0; word--) {
            if (bits[word] != 0) {
                return word * 64 + 63 - Long.numberOfLeadingZeros(bits[word]);
            }
        }
        return -1;
    }
}
