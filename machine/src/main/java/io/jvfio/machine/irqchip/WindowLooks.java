package io.jvfio.machine.irqchip;

/**
 * One vCPU's waits for its interrupt window: a vector is deliverable but the guest has interrupts off,
 * so KVM is asked for an interrupt-window exit. Decides, run by run, whether KVM_RUN also ends on its
 * own every so often so that the guest's interrupt flag is looked at again. KVM's window exit is the way
 * the documents give, but a software KVM that emulates the guest takes it only between batches of
 * instructions (0.6 ms apart where measured), while a signal ends KVM_RUN there within about 20 us.
 *
 * <p>A look costs an armed and a disarmed timer per run (9 us together on a 2-core VM, whose timer
 * programming exits to its own hypervisor), which a guest that waits halted never needs: its {@code hlt}
 * ends the wait, and the vector goes in there. So a wait is looked at from its start unless the last
 * one ended at a {@code hlt}; a wait that was not, and sees the guest exit again with the window still
 * closed, is looked at from then on. A guest that switches from waiting halted to running on with
 * interrupts off therefore waits once for KVM's own window exit. Where KVM's window exit is prompt (as
 * documented; {@code IrqWindowProbe} tells) there is nothing to gain and no run is looked at. Not
 * thread-safe: the irqchip's lock guards it.
 */
final class WindowLooks {
    /**
     * The first look of a wait, after the run starts: more than a handler takes on a software KVM from
     * its EOI to the {@code hlt} of a guest that waits halted, so such a guest is not kicked for
     * nothing before it shows how it waits.
     */
    static final long FIRST_LOOK_NANOS = 100_000;

    /**
     * The later looks: above the ~20 us a signal takes to end a software KVM's KVM_RUN, so the guest
     * still runs between two looks (at 20 us it hardly did).
     */
    static final long LOOK_NANOS = 35_000;

    /**
     * The period doubles after every second later run of a wait, up to {@code LOOK_NANOS << MAX_DOUBLINGS}
     * (1.1 ms): where entering the guest alone takes longer than a period (KVM nested on an emulator),
     * a fixed one would end every run before its first instruction, and the guest would never reach
     * the instruction that opens its window.
     */
    static final int MAX_DOUBLINGS = 5;

    private final boolean enabled;
    private boolean waiting;
    private int laterRuns;
    private long period = LOOK_NANOS;
    private boolean halted;
    private boolean lookFromTheStart = true;
    private long lookedRuns;

    /** {@code enabled}: whether runs are looked at at all, false where KVM's window exit comes promptly. */
    WindowLooks(boolean enabled) {
        this.enabled = enabled;
    }

    /**
     * Right before a run: whether a vector waits for the window. Returns when the run's first look is
     * due, in nanoseconds, and the period of the later ones ({@link #period}); 0 for a run without looks.
     */
    long beforeRun(boolean vectorWaits) {
        if (!enabled) {
            return 0;
        }
        if (!vectorWaits) {
            if (waiting) {
                lookFromTheStart = !halted;
            }
            waiting = false;
            return 0;
        }
        if (waiting) {
            period = LOOK_NANOS << Math.min(laterRuns++ / 2, MAX_DOUBLINGS);
            lookedRuns++;
            return period;
        }
        waiting = true;
        halted = false;
        laterRuns = 0;
        period = LOOK_NANOS;
        if (!lookFromTheStart) {
            return 0;
        }
        lookedRuns++;
        return FIRST_LOOK_NANOS;
    }

    /** The period of the looks after the first in the run {@link #beforeRun} was last asked about. */
    long period() {
        return period;
    }

    /** The runs {@link #beforeRun} gave looks to, since the machine started. */
    long lookedRuns() {
        return lookedRuns;
    }

    /** The guest ran {@code hlt}. */
    void halted() {
        if (waiting) {
            halted = true;
        }
    }
}
