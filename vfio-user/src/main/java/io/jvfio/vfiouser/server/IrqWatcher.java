package io.jvfio.vfiouser.server;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.jvfio.sys.Epoll;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;

/**
 * Watches the unmask eventfds clients gave (SET_IRQS UNMASK with DATA_EVENTFD) with one epoll thread,
 * started when the first one arrives; a signalled eventfd unmasks its line.
 */
final class IrqWatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(IrqWatcher.class.getName());
    private static final long WAKE = 0;

    private final String name;
    private final Map<Long, ModelIrqLine> lines = new ConcurrentHashMap<>();
    private Epoll epoll;
    private EventFd wake;
    private Thread thread;
    private volatile boolean stopping;

    IrqWatcher(String name) {
        this.name = name;
    }

    /** Gives {@code line} a new unmask eventfd (null: none); the old one is unwatched and closed. */
    synchronized void setUnmask(ModelIrqLine line, EventFd eventFd) throws ErrnoException {
        if (eventFd != null) {
            start();
        }
        EventFd old = line.swapUnmask(eventFd);
        try {
            if (old != null) {
                unwatch(old);
            }
            if (eventFd != null) {
                lines.put(line.token, line);
                epoll.add(eventFd.fd(), Epoll.EPOLLIN, line.token);
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
        try {
            if (epoll != null && old.fd().isOpen()) {
                epoll.remove(old.fd());
            }
        } catch (ErrnoException e) {
            LOG.log(Level.DEBUG, "unwatching an unmask eventfd: {0}", e.getMessage());
        }
        old.close();
    }

    private void start() throws ErrnoException {
        if (thread != null) {
            return;
        }
        epoll = Epoll.create(16);
        wake = EventFd.create(true);
        epoll.add(wake.fd(), Epoll.EPOLLIN, WAKE);
        thread = Thread.ofPlatform().daemon().name("vfio-user irq " + name).start(this::loop);
    }

    private void loop() {
        try {
            while (!stopping) {
                int ready = epoll.await(-1);
                for (int i = 0; i < ready; i++) {
                    long token = epoll.token(i);
                    if (token == WAKE) {
                        continue;
                    }
                    ModelIrqLine line = lines.get(token);
                    if (line != null) {
                        line.unmaskSignalled();
                    }
                }
            }
        } catch (ErrnoException | RuntimeException e) {
            if (!stopping) {
                LOG.log(Level.ERROR, "vfio-user {0}: IRQ watcher stopped: {1}", name, e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        Thread running;
        synchronized (this) {
            stopping = true;
            running = thread;
            if (wake != null) {
                try {
                    wake.signal();
                } catch (ErrnoException e) {
                    LOG.log(Level.DEBUG, "waking the IRQ watcher: {0}", e.getMessage());
                }
            }
        }
        if (running != null) {
            try {
                running.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            if (epoll != null) {
                epoll.close();
            }
            if (wake != null) {
                wake.close();
            }
        }
    }
}
