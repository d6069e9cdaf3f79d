package io.jvfio.vfiouser.server;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import java.lang.System.Logger.Level;

/**
 * One interrupt line of a served device, as its model drives it (the guest's end of the path is the
 * machine's {@code IrqLine}). The model calls {@link #raise} and {@link #lower} (level) or
 * {@link #pulse} (edge) from any thread; the line signals the client's trigger eventfd.
 *
 * <p>Edge: a pulse while masked is remembered and fires on unmask. Level (AUTOMASKED): asserting an
 * unmasked line fires it and masks it; unmasking a line that is still asserted, or giving it a trigger
 * eventfd while asserted, fires it again.
 */
public final class ModelIrqLine {
    private static final System.Logger LOG = System.getLogger(ModelIrqLine.class.getName());

    private final int index;
    private final int sub;
    private final boolean level;
    private EventFd trigger;
    private EventFd unmask;
    private boolean masked;
    private boolean asserted;
    private boolean pending;
    private long signals;
    private long dropped;
    /** The trigger's counter was found full and not read since: said once, not at every signal. */
    private boolean triggerFull;

    ModelIrqLine(int index, int sub, boolean level) {
        this.index = index;
        this.sub = sub;
        this.level = level;
    }

    public int index() {
        return index;
    }

    public int sub() {
        return sub;
    }

    public boolean isLevel() {
        return level;
    }

    /** Level: asserts the line (fires if unmasked and not yet asserted). Edge: same as {@link #pulse}. */
    public synchronized void raise() {
        if (!level) {
            pulse();
            return;
        }
        if (asserted) {
            return;
        }
        asserted = true;
        if (!masked) {
            fire();
        }
    }

    /** Level: de-asserts the line. Edge: nothing. */
    public synchronized void lower() {
        asserted = false;
    }

    /** Edge: fires now, or on unmask if masked. Level: a raise and a lower. */
    public synchronized void pulse() {
        if (level) {
            raise();
            lower();
            return;
        }
        if (masked) {
            pending = true;
        } else {
            fire();
        }
    }

    public synchronized boolean isMasked() {
        return masked;
    }

    public synchronized boolean isAsserted() {
        return asserted;
    }

    /** How many times the trigger eventfd was signalled. */
    public synchronized long signals() {
        return signals;
    }

    /** Fires that found no trigger eventfd (the client had not connected one). */
    public synchronized long dropped() {
        return dropped;
    }

    synchronized void mask() {
        masked = true;
    }

    synchronized void unmask() {
        masked = false;
        if (level && asserted) {
            fire();
        } else if (pending) {
            pending = false;
            fire();
        }
    }

    /** SET_IRQS TRIGGER with DATA_NONE/BOOL: the client fires the line itself. */
    synchronized void loopback() {
        if (masked) {
            pending = !level;
            return;
        }
        fire();
    }

    private void fire() {
        if (trigger == null) {
            // a level line stays unmasked: nobody would unmask it, and the trigger set later fires it
            dropped++;
            return;
        }
        if (level) {
            masked = true;
        }
        try {
            if (trigger.signalIfRoom()) {
                signals++;
                triggerFull = false;
            } else {
                dropped++;
                if (!triggerFull) {
                    triggerFull = true;
                    LOG.log(
                            Level.WARNING,
                            "IRQ {0}.{1}: the trigger eventfd is full (nobody reads it): signals are dropped until"
                                    + " it is read",
                            index,
                            sub);
                }
            }
        } catch (ErrnoException e) {
            dropped++;
            LOG.log(
                    Level.WARNING,
                    "IRQ {0}.{1}: signalling the trigger eventfd failed: {2}",
                    index,
                    sub,
                    e.getMessage());
        }
    }

    /**
     * Replaces the trigger eventfd (null: none); the line owns it from now on. A level line that is
     * asserted and unmasked fires into the new eventfd at once, as a host IRQ fires when its handler is
     * requested on a line already high: an IRQ raised before the client was ready cannot wedge the line.
     */
    synchronized void setTrigger(EventFd eventFd) {
        if (trigger != null) {
            trigger.close();
        }
        trigger = eventFd;
        if (trigger != null && level && asserted && !masked) {
            fire();
        }
    }

    /** Replaces the unmask eventfd (null: none) and returns the old one for the caller to unwatch and close. */
    synchronized EventFd swapUnmask(EventFd eventFd) {
        EventFd old = unmask;
        unmask = eventFd;
        return old;
    }

    /** The client signalled {@code eventFd} (the event loop drained it): unmask, unless it was replaced meanwhile. */
    synchronized void unmaskSignalled(EventFd eventFd) {
        if (unmask == eventFd) {
            unmask();
        }
    }

    /** The client left: forget its eventfds and masks (the asserted state is the device's and stays). */
    synchronized EventFd disconnect() {
        setTrigger(null);
        masked = false;
        pending = false;
        return swapUnmask(null);
    }

    @Override
    public synchronized String toString() {
        return "ModelIrqLine[" + index + "." + sub + (level ? " level" : " edge") + (masked ? " masked" : "")
                + (asserted ? " asserted" : "") + "]";
    }
}
