package io.jvfio.bench;

import io.jvfio.devices.testdevice.TestDevice;
import io.jvfio.devices.testdevice.TestDeviceRegisters;
import io.jvfio.machine.boot.BootInfo;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.ThreadKick;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.kvm.KvmAbi;
import io.jvfio.sys.kvm.KvmIoctls;
import io.jvfio.sys.kvm.KvmRunView;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The irq benchmarks' "java raw" diagnostic: bench/c/irq_loop.c's VMM loop in Java on jvfio's native layer
 * alone, against {@link RawDeviceMain} in a child JVM (no vfio-user, no machine, no platform device). The
 * same VM ({@link RawVm}), guest, device address and GSI as the C program, the same span timed, the same
 * kernel work per interrupt: two MMIO exits forwarded as 16-byte requests and 8-byte replies, the
 * device's eventfd write, and the injection by irqfd or by a thread that reads the eventfd and raises the
 * GSI with KVM_IRQ_LINE (lowered when the ACK write exits). What it costs over C is the price of JVMs at
 * both ends of that loop; what jvfio costs over it is jvfio's own layers.
 */
final class RawIrqLoop {
    /** Where jvfio's platform bus puts the first region and the first IRQ, as in irq_loop.c. */
    static final long DEVICE_BASE = 0xD000_0000L;

    static final int GSI = 16;

    private final Path device;
    private final boolean irqfd;

    RawIrqLoop(Path device, boolean irqfd) {
        this.device = device;
        this.irqfd = irqfd;
    }

    /** One run of testdev's echo loop for {@code interrupts}; returns ns per interrupt. */
    double run(byte[] image, long interrupts) throws Exception {
        try (RawVm vm = RawVm.create();
                UnixSocket socket = UnixSocket.connect(device)) {
            ByteBuffer reply = ByteBuffer.allocateDirect(RawDeviceMain.REPLY).order(ByteOrder.LITTLE_ENDIAN);
            UnixSocket.Received hello = socket.receive(reply, 1);
            if (hello.fds().size() != 1) {
                hello.closeFds();
                throw new IOException("the raw device sent " + hello.fds().size() + " fds with its hello, not 1");
            }
            boolean whole;
            try {
                whole = socket.receiveFully(reply);
            } catch (IOException | RuntimeException e) {
                hello.closeFds();
                throw e;
            }
            if (!whole) {
                hello.closeFds();
                throw new IOException("the raw device closed during its hello");
            }
            try (EventFd trigger = EventFd.adopt(hello.fds().getFirst())) {
                if (irqfd) {
                    KvmIoctls.irqfd(vm.vm, trigger.fd().get(), GSI, 0, -1);
                }
                long start;
                long acks;
                try (Injector _ = irqfd
                        ? null
                        : new Injector("java-raw-injector", trigger::signal, done -> inject(vm, trigger, done))) {
                    start = System.nanoTime();
                    vm.start(
                            image,
                            new long[] {interrupts, IrqLoop.LINE_MASK, IrqLoop.MODE_ECHO},
                            new BootInfo.Device(
                                    TestDevice.COMPATIBLE,
                                    List.of(new BootInfo.Region(DEVICE_BASE, TestDeviceRegisters.REGS_SIZE)),
                                    List.of(GSI)));
                    acks = loop(vm, socket);
                }
                long elapsed = System.nanoTime() - start;
                if (acks != interrupts) {
                    throw new IOException("java raw: the guest acked " + acks + " interrupts of " + interrupts);
                }
                return (double) elapsed / interrupts;
            }
        }
    }

    /** The eventfd path's injection: what jvfio's event loop does for a user-side IRQ, and C's thread. */
    private static void inject(RawVm vm, EventFd trigger, BooleanSupplier done) {
        try {
            while (true) {
                trigger.read();
                if (done.getAsBoolean()) {
                    return;
                }
                KvmIoctls.irqLine(vm.vm, GSI, 1);
            }
        } catch (ErrnoException e) {
            throw new IllegalStateException("java raw injector: " + e.getMessage(), e);
        }
    }

    /**
     * A thread that runs until it is told it is done and woken. Closing it does both and then waits for the
     * thread to end, also when the wake-up fails (the thread may have ended by itself); a thread that has not
     * ended {@link #JOIN_BOUND} later is an exception rather than a run that hangs.
     */
    static final class Injector implements AutoCloseable {
        static final Duration JOIN_BOUND = Duration.ofSeconds(10);

        /** Wakes the thread, e.g. by signalling the eventfd it reads. */
        @FunctionalInterface
        interface Wake {
            void run() throws ErrnoException;
        }

        private final AtomicBoolean done = new AtomicBoolean();
        private final Wake wake;
        private final Duration joinBound;
        private final Thread thread;

        Injector(String name, Wake wake, Consumer<BooleanSupplier> body) {
            this(name, wake, body, JOIN_BOUND);
        }

        Injector(String name, Wake wake, Consumer<BooleanSupplier> body, Duration joinBound) {
            this.wake = wake;
            this.joinBound = joinBound;
            this.thread = Thread.ofPlatform().daemon().name(name).start(() -> body.accept(done::get));
        }

        @Override
        public void close() throws ErrnoException, InterruptedException {
            done.set(true);
            ErrnoException wakeFailed = null;
            try {
                wake.run();
            } catch (ErrnoException e) {
                wakeFailed = e;
            }
            if (!thread.join(joinBound)) {
                throw new IllegalStateException(
                        thread.getName() + " did not end within " + joinBound + " of being told to", wakeFailed);
            }
            if (wakeFailed != null) {
                throw wakeFailed;
            }
        }
    }

    /**
     * Forwards the device's MMIO exits until the exit port; returns how many ACK writes it forwarded. A
     * guest still running after {@link IrqLoop#ROUND_LIMIT} ends the round with the count so far: the
     * kernel kicks this thread out of KVM_RUN from then on, once a second, so a guest halted for good
     * cannot hold the run until the nested guest's own time limit, hours later. The clock is read only
     * after such a kick: in the nested guest a clock read is a system call, and every exit would pay it.
     */
    private long loop(RawVm vm, UnixSocket socket) throws IOException, TimeoutException {
        ExitForwarder forwarder = new ExitForwarder(vm, socket);
        ThreadKick watchdog = ThreadKick.bindCurrentThread();
        try {
            watchdog.kickEvery(IrqLoop.ROUND_LIMIT.toNanos(), 1_000_000_000L);
            long deadline = System.nanoTime() + IrqLoop.ROUND_LIMIT.toNanos();
            boolean running = true;
            while (running) {
                running = forwarder.next();
                if (forwarder.interrupted && System.nanoTime() - deadline >= 0) {
                    throw new TimeoutException("java raw: the guest did not exit within "
                            + IrqLoop.ROUND_LIMIT.toMinutes() + " minutes, after " + forwarder.acks + " ACKs");
                }
            }
            return forwarder.acks;
        } finally {
            watchdog.release();
        }
    }

    /**
     * One KVM_RUN and its exit per {@link #next} call, as jvfio's machine does: a loop entered once per
     * round is compiled by HotSpot (on-stack replacement) only after tens of thousands of iterations, so
     * with the exit handling inline every exit of a round ran in the interpreter.
     */
    private final class ExitForwarder {
        private final RawVm vm;
        private final KvmRunView run;
        private final UnixSocket socket;
        private final ByteBuffer request =
                ByteBuffer.allocateDirect(RawDeviceMain.REQUEST).order(ByteOrder.LITTLE_ENDIAN);
        private final ByteBuffer reply =
                ByteBuffer.allocateDirect(RawDeviceMain.REPLY).order(ByteOrder.LITTLE_ENDIAN);
        private final ByteBuffer[] requestParts = {request};
        private final int[] noFds = new int[0];
        private long acks;
        /** Whether the last {@link #next} ended in a signal rather than an exit. */
        private boolean interrupted;

        ExitForwarder(RawVm vm, UnixSocket socket) {
            this.vm = vm;
            this.run = vm.run;
            this.socket = socket;
        }

        /** Runs the vCPU until its next exit and handles it; false at the exit port. */
        boolean next() throws IOException {
            interrupted = KvmIoctls.run(vm.vcpu) < 0;
            if (interrupted) {
                return true;
            }
            switch (run.exitReason()) {
                case KvmAbi.KVM_EXIT_MMIO -> forwardMmio();
                case KvmAbi.KVM_EXIT_IO -> {
                    return !RawPorts.exited(run);
                }
                case KvmAbi.KVM_EXIT_HLT -> {}
                default -> throw new IOException("java raw: unexpected exit reason " + run.exitReason());
            }
            return true;
        }

        private void forwardMmio() throws IOException {
            long address = run.mmioPhysAddr();
            int length = run.mmioLen();
            boolean write = run.mmioIsWrite();
            if (address < DEVICE_BASE || address + length > DEVICE_BASE + TestDeviceRegisters.REGS_SIZE) {
                if (!write) {
                    run.setMmioData(-1L);
                }
                return;
            }
            int offset = (int) (address - DEVICE_BASE);
            if (write && offset == TestDeviceRegisters.ACK) {
                acks++;
                if (!irqfd) {
                    KvmIoctls.irqLine(vm.vm, GSI, 0);
                }
            }
            request.clear();
            request.putInt(0, write ? 1 : 0).putInt(4, offset).putLong(8, write ? run.mmioData() : 0);
            socket.send(requestParts, noFds);
            reply.clear();
            if (!socket.receiveFully(reply)) {
                throw new IOException("java raw: the device closed");
            }
            if (!write) {
                run.setMmioData(reply.getLong(0));
            }
        }
    }
}
