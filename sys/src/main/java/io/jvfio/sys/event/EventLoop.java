package io.jvfio.sys.event;

import io.jvfio.sys.Epoll;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.TimerFd;
import java.time.Duration;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * An event loop: one platform thread waiting in epoll on registered eventfds, a timerfd for
 * {@link #schedule scheduled} tasks, and a wake-up eventfd. A registered eventfd's counter is drained by
 * the loop and handed to its handler. Handlers and tasks run on the loop thread, one at a time; a handler
 * that throws is logged and the loop goes on. Registration and scheduling work from any thread.
 * {@link #close()} stops and joins the thread and closes the loop's own fds (not the registered ones).
 */
public final class EventLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());
    private static final long WAKEUP_TOKEN = 0;
    private static final long TIMER_TOKEN = 1;
    private static final int MAX_EVENTS = 64;

    private record Registration(EventFd eventFd, LongConsumer handler) {}

    /** A scheduled task; {@link #cancel()} stops it from running if it has not yet. */
    public static final class Scheduled implements Comparable<Scheduled> {
        private final long deadline;
        private final long sequence;
        private final Runnable task;
        private final AtomicBoolean cancelled = new AtomicBoolean();

        private Scheduled(long deadline, long sequence, Runnable task) {
            this.deadline = deadline;
            this.sequence = sequence;
            this.task = task;
        }

        /** Returns true if this call cancelled it before it ran. */
        public boolean cancel() {
            return cancelled.compareAndSet(false, true);
        }

        @Override
        public int compareTo(Scheduled other) {
            int byDeadline = Long.compare(deadline - other.deadline, 0);
            return byDeadline != 0 ? byDeadline : Long.compare(sequence, other.sequence);
        }
    }

    private final Epoll epoll;
    private final TimerFd timer;
    private final EventFd wakeup;
    private final Thread thread;
    private final Map<Long, Registration> registrations = new ConcurrentHashMap<>();
    private final AtomicLong nextToken = new AtomicLong(2);
    private final AtomicLong nextSequence = new AtomicLong();
    private final PriorityQueue<Scheduled> timers = new PriorityQueue<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Why the loop's thread ended before {@link #close}, or null. */
    private volatile String death;

    private volatile boolean running = true;

    private EventLoop(String name, Epoll epoll, TimerFd timer, EventFd wakeup) {
        this.epoll = epoll;
        this.timer = timer;
        this.wakeup = wakeup;
        this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::loop);
    }

    /** Creates the loop's fds and starts its thread. */
    public static EventLoop start(String name) throws ErrnoException {
        Epoll epoll = Epoll.create(MAX_EVENTS);
        TimerFd timer = null;
        EventFd wakeup = null;
        try {
            timer = TimerFd.create();
            wakeup = EventFd.create(true);
            epoll.add(wakeup.fd(), Epoll.EPOLLIN, WAKEUP_TOKEN);
            epoll.add(timer.fd(), Epoll.EPOLLIN, TIMER_TOKEN);
        } catch (ErrnoException | RuntimeException e) {
            if (wakeup != null) {
                wakeup.close();
            }
            if (timer != null) {
                timer.close();
            }
            epoll.close();
            throw e;
        }
        EventLoop loop = new EventLoop(name, epoll, timer, wakeup);
        loop.thread.start();
        return loop;
    }

    /**
     * Watches {@code eventFd}: whenever it is signalled, the loop drains its counter and calls
     * {@code handler} with it. Returns the token for {@link #unregister}.
     */
    public long register(EventFd eventFd, LongConsumer handler) throws ErrnoException {
        checkOpen();
        long token = nextToken.getAndIncrement();
        registrations.put(token, new Registration(eventFd, handler));
        try {
            // Edge-triggered: an eventfd closed before its unregister stays in the set while KVM or a peer
            // holds its file, with no number to remove it by; level-triggered, its unread counter would
            // wake the loop at once, every time, until that file went.
            epoll.add(eventFd.fd(), Epoll.EPOLLIN | Epoll.EPOLLET, token);
        } catch (ErrnoException e) {
            registrations.remove(token);
            throw e;
        }
        return token;
    }

    /**
     * Stops watching the eventfd registered under {@code token}. On the loop thread its handler is not
     * called afterwards; from another thread, a dispatch the loop had already begun may still call it once
     * (waiting for that here could deadlock a caller holding a lock the handler takes), so a handler must
     * tolerate one call after its owner unregistered it.
     */
    public void unregister(long token) throws ErrnoException {
        Registration registration = registrations.remove(token);
        if (registration != null && registration.eventFd().fd().isOpen()) {
            epoll.remove(registration.eventFd().fd());
        }
    }

    /** Runs {@code task} on the loop thread after {@code delay}. */
    public Scheduled schedule(Duration delay, Runnable task) throws ErrnoException {
        checkOpen();
        long deadline = System.nanoTime() + Math.max(0, delay.toNanos());
        Scheduled scheduled = new Scheduled(deadline, nextSequence.getAndIncrement(), task);
        synchronized (timers) {
            timers.add(scheduled);
            if (timers.peek() == scheduled) {
                armFor(scheduled);
            }
        }
        return scheduled;
    }

    /** Runs {@code task} on the loop thread as soon as it is free. */
    public Scheduled execute(Runnable task) throws ErrnoException {
        return schedule(Duration.ZERO, task);
    }

    /** Whether the caller is the loop thread. */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    public Thread thread() {
        return thread;
    }

    private void armFor(Scheduled head) throws ErrnoException {
        timer.arm(Math.max(1, head.deadline - System.nanoTime()), 0);
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("event loop " + thread.getName() + " is closed");
        }
        String died = death;
        if (died != null) {
            throw new IllegalStateException("event loop " + thread.getName() + " died: " + died);
        }
    }

    /**
     * Handlers' and tasks' RuntimeExceptions are logged where they run; anything else that ends the thread
     * (an Error from a handler, a failing epoll_wait) is kept, so that the next register or schedule fails
     * naming it instead of taking work that would never run.
     */
    private void loop() {
        try {
            while (running) {
                awaitAndRunSome();
            }
        } catch (ErrnoException | RuntimeException | Error e) {
            death = e.toString();
            LOG.log(
                    System.Logger.Level.ERROR,
                    "event loop " + thread.getName() + " died, its handlers and timers no longer run",
                    e);
        }
    }

    /** Wake-ups handled per call of {@link #awaitAndRunSome}. */
    private static final int WAKEUPS_PER_CALL = 16;

    /**
     * Up to {@link #WAKEUPS_PER_CALL} waits, each with the handlers of what it found. The loop that calls
     * it runs once per event loop, and HotSpot compiles a running loop (on-stack replacement) only after
     * tens of thousands of iterations, while it compiles a method after a few hundred calls: so the
     * interpreted loop costs a call per 16 wake-ups, not one per wake-up (as the machine's vCPU loop,
     * {@code Machine.runExits}).
     */
    private void awaitAndRunSome() throws ErrnoException {
        for (int i = 0; i < WAKEUPS_PER_CALL && running; i++) {
            awaitAndRun();
        }
    }

    /** One wait and the handlers of what it found. */
    private void awaitAndRun() throws ErrnoException {
        int ready = epoll.await(-1);
        for (int i = 0; i < ready && running; i++) {
            long token = epoll.token(i);
            if (token == WAKEUP_TOKEN) {
                drain(wakeup);
            } else if (token == TIMER_TOKEN) {
                runDueTimers();
            } else {
                dispatch(token);
            }
        }
    }

    private void dispatch(long token) {
        Registration registration = registrations.get(token);
        if (registration == null) {
            return;
        }
        long count = drain(registration.eventFd());
        if (count == 0) {
            return;
        }
        try {
            registration.handler().accept(count);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "event handler for " + registration.eventFd() + " failed", e);
        }
    }

    private static long drain(EventFd eventFd) {
        try {
            return eventFd.drain();
        } catch (ErrnoException | IllegalStateException e) {
            return 0;
        }
    }

    private void runDueTimers() {
        try {
            timer.expirations();
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "timerfd read failed: " + e.getMessage());
        }
        while (running) {
            Scheduled due;
            synchronized (timers) {
                Scheduled head = timers.peek();
                if (head == null) {
                    return;
                }
                if (head.deadline - System.nanoTime() > 0) {
                    try {
                        armFor(head);
                    } catch (ErrnoException e) {
                        LOG.log(System.Logger.Level.ERROR, "cannot re-arm the timer: " + e.getMessage());
                    }
                    return;
                }
                due = timers.poll();
            }
            if (due.cancelled.compareAndSet(false, true)) {
                try {
                    due.task.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "scheduled task failed", e);
                }
            }
        }
    }

    /** Stops the thread, joins it, and closes the epoll set, the timer and the wake-up fd. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        running = false;
        try {
            wakeup.signal();
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot wake the event loop: " + e.getMessage());
        }
        if (!inLoop()) {
            boolean interrupted = false;
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        registrations.clear();
        synchronized (timers) {
            timers.clear();
        }
        epoll.close();
        timer.close();
        wakeup.close();
    }
}
