package io.jvfio.vfiouser.server;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.event.EventLoop;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Watches the unmask eventfds clients gave (SET_IRQS UNMASK with DATA_EVENTFD) on one event loop,
 * started when the first one arrives; a signalled eventfd unmasks its line.
 */
final class IrqWatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(IrqWatcher.class.getName());

    private final String name;
    /** The loop's registration token of each watched eventfd. */
    private final Map<EventFd, Long> tokens = new HashMap<>();

    private EventLoop loop;
    private boolean closed;

    IrqWatcher(String name) {
        this.name = name;
    }

    /**
     * The loop, started on first use: the server's posted writes are read there too, so that a posted ack
     * that the guest wrote before its EOI is seen before the unmask that EOI brings (one epoll's ready
     * list keeps that order), and the line is not found still asserted and fired again for nothing.
     */
    synchronized EventLoop loop() throws ErrnoException {
        if (closed) {
            throw new IllegalStateException("the IRQ watcher of " + name + " is closed");
        }
        if (loop == null) {
            loop = EventLoop.start("vfio-user irq " + name);
        }
        return loop;
    }

    /**
     * Gives each line the eventfd at its position (null: none), all or nothing: should one of them fail
     * to be watched, or the watcher be closed, every line keeps the eventfd it had and the new ones stay
     * the caller's to close. Once all are watched, the lines' old eventfds are unwatched and closed.
     */
    synchronized void setUnmasks(List<ModelIrqLine> lines, List<EventFd> eventFds) throws ErrnoException {
        if (closed) {
            throw new IllegalStateException("the IRQ watcher of " + name + " is closed");
        }
        if (eventFds.stream().anyMatch(Objects::nonNull)) {
            loop();
        }
        // Swapped first, so that a signal coming as soon as an eventfd is watched finds its line holding
        // it: unmaskSignalled ignores an eventfd its line does not hold
        List<EventFd> old = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            old.add(lines.get(i).swapUnmask(eventFds.get(i)));
        }
        Map<EventFd, Long> watched = new HashMap<>();
        try {
            for (int i = 0; i < lines.size(); i++) {
                ModelIrqLine line = lines.get(i);
                EventFd eventFd = eventFds.get(i);
                if (eventFd != null) {
                    watched.put(eventFd, loop.register(eventFd, count -> line.unmaskSignalled(eventFd)));
                }
            }
        } catch (ErrnoException | RuntimeException e) {
            for (long token : watched.values()) {
                unregister(token);
            }
            for (int i = 0; i < lines.size(); i++) {
                lines.get(i).swapUnmask(old.get(i));
            }
            throw e;
        }
        tokens.putAll(watched);
        for (EventFd replaced : old) {
            if (replaced != null) {
                unwatch(replaced);
            }
        }
    }

    /** Unwatches and closes an unmask eventfd a line gave up. */
    synchronized void release(EventFd old) {
        if (old != null) {
            unwatch(old);
        }
    }

    private void unwatch(EventFd old) {
        Long token = tokens.remove(old);
        if (token != null) {
            unregister(token);
        }
        old.close();
    }

    private void unregister(long token) {
        try {
            loop.unregister(token);
        } catch (ErrnoException e) {
            LOG.log(Level.DEBUG, "unwatching an unmask eventfd: {0}", e.getMessage());
        }
    }

    /** Stops the loop; the lines' eventfds are released before, by their lines. */
    @Override
    public synchronized void close() {
        closed = true;
        if (loop != null) {
            loop.close();
        }
    }
}
