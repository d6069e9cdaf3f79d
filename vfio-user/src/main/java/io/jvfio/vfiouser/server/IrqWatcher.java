package io.jvfio.vfiouser.server;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.event.EventLoop;
import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.Map;

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

    /** Gives {@code line} a new unmask eventfd (null: none); the old one is unwatched and closed. */
    synchronized void setUnmask(ModelIrqLine line, EventFd eventFd) throws ErrnoException {
        if (closed) {
            throw new IllegalStateException("the IRQ watcher of " + name + " is closed");
        }
        if (eventFd != null) {
            loop();
        }
        EventFd old = line.swapUnmask(eventFd);
        try {
            if (old != null) {
                unwatch(old);
            }
            if (eventFd != null) {
                tokens.put(eventFd, loop.register(eventFd, count -> line.unmaskSignalled(eventFd)));
            }
        } catch (ErrnoException e) {
            line.swapUnmask(null);
            throw e;
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
        try {
            if (token != null) {
                loop.unregister(token);
            }
        } catch (ErrnoException e) {
            LOG.log(Level.DEBUG, "unwatching an unmask eventfd: {0}", e.getMessage());
        }
        old.close();
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
