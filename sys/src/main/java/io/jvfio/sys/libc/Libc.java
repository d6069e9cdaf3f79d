package io.jvfio.sys.libc;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.ref.Reference;

/**
 * The system calls and libc functions jvfio makes, each returning the raw result and throwing
 * {@link ErrnoException} with the errno that call set. Internal to {@code sys} (its module does not export this
 * package): the rest of jvfio uses the typed owners ({@link io.jvfio.sys.Fd}, {@link io.jvfio.sys.EventFd},
 * {@link io.jvfio.sys.Mapping}, ...) and never sees a {@link MemorySegment}.
 *
 * <p>Every system call goes through one downcall, glibc's {@code long syscall(long number, ...)}, with
 * six {@code long} arguments (a pointer as its address). Linking a downcall costs a fresh JVM 5-20 ms
 * per C signature (a stub and lambda forms, spun by interpreted code), and the 35 calls here had 25
 * signatures: {@code jvfio info} spent most of its start-up linking seven of them, {@code jvfio run}
 * eighteen. Signals too go through it (gettid, tgkill, rt_sigprocmask); only sigaction, for glibc's
 * restorer, calls libc itself, in the same shape so that it shares the same stub. Pointer arguments
 * must be native memory, kept reachable until the call returned, and not freed by another thread meanwhile: that is what the linker did for {@code ADDRESS} arguments, and
 * what {@link #pointer} and the reachability fences here do now ({@link io.jvfio.sys.Epoll} keeps its buffer in an
 * automatic arena for the last part).
 *
 * <p>errno is captured into a per-thread segment: vCPU threads and the event loop call concurrently.
 */
public final class Libc {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_CLOEXEC = 02000000;
    /** A descriptor that only names a place in the file system: opening it needs no permission on the file. */
    public static final int O_PATH = 010000000;

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_PRIVATE = 2;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;

    public static final int F_GETFD = 1;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_DUPFD_CLOEXEC = 1030;

    public static final int POLLIN = 0x1;
    public static final int POLLOUT = 0x4;
    public static final int POLLERR = 0x8;
    public static final int POLLHUP = 0x10;
    public static final int POLLNVAL = 0x20;

    /** SIGURG: its default action is to ignore it, so a stray one can never end the process. */
    public static final int SIGURG = 23;

    public static final int SIG_BLOCK = 0;
    public static final int SIG_UNBLOCK = 1;
    public static final int SIG_SETMASK = 2;
    public static final int SA_RESTART = 0x10000000;
    /** The kernel's sigset (glibc's sigset_t is 1024 bits, of which the kernel reads the first 64). */
    private static final int KERNEL_SIGSET_BYTES = 8;
    /** glibc's struct sigaction on x86-64: handler, mask, flags, restorer (SignalsTest checks it with gcc). */
    static final long SIGACTION_SIZE = 152;

    static final long SIGACTION_HANDLER = 0;
    static final long SIGACTION_MASK = 8;
    static final long SIGACTION_FLAGS = 136;
    private static final long SIG_DFL = 0;
    private static final long SIG_IGN = 1;

    public static final int CLOCK_MONOTONIC = 1;
    /** sigev_notify: the signal goes to the thread sigevent names (Linux's SIGEV_THREAD_ID). */
    static final int SIGEV_THREAD_ID = 4;
    /** struct sigevent on x86-64: value, signo, notify, then the union whose first int is the thread id. */
    static final long SIGEVENT_SIZE = 64;

    static final long SIGEVENT_SIGNO = 8;
    static final long SIGEVENT_NOTIFY = 12;
    static final long SIGEVENT_THREAD_ID = 16;

    /** x86-64 system call numbers (asm/unistd_64.h; SyscallNumbersTest checks them with gcc). */
    static final long SYS_read = 0;

    static final long SYS_write = 1;
    static final long SYS_open = 2;
    static final long SYS_close = 3;
    static final long SYS_poll = 7;
    static final long SYS_mmap = 9;
    static final long SYS_munmap = 11;
    static final long SYS_rt_sigprocmask = 14;
    static final long SYS_ioctl = 16;
    static final long SYS_pread64 = 17;
    static final long SYS_pwrite64 = 18;
    static final long SYS_getpid = 39;
    static final long SYS_socket = 41;
    static final long SYS_connect = 42;
    static final long SYS_sendto = 44;
    static final long SYS_recvfrom = 45;
    static final long SYS_sendmsg = 46;
    static final long SYS_recvmsg = 47;
    static final long SYS_shutdown = 48;
    static final long SYS_bind = 49;
    static final long SYS_listen = 50;
    static final long SYS_socketpair = 53;
    static final long SYS_setsockopt = 54;
    static final long SYS_fcntl = 72;
    static final long SYS_fdatasync = 75;
    static final long SYS_ftruncate = 77;
    static final long SYS_rename = 82;
    static final long SYS_gettid = 186;
    static final long SYS_timer_create = 222;
    static final long SYS_timer_settime = 223;
    static final long SYS_timer_delete = 226;
    static final long SYS_chmod = 90;
    static final long SYS_epoll_wait = 232;
    static final long SYS_epoll_ctl = 233;
    static final long SYS_tgkill = 234;
    static final long SYS_timerfd_create = 283;
    static final long SYS_timerfd_settime = 286;
    static final long SYS_accept4 = 288;
    static final long SYS_eventfd2 = 290;
    static final long SYS_epoll_create1 = 291;
    static final long SYS_preadv = 295;
    static final long SYS_pwritev = 296;
    static final long SYS_memfd_create = 319;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    // An offset, not the layout's VarHandle: making that handle spun method-handle classes for 10 ms of
    // every command's start.
    private static final long ERRNO_OFFSET = CALL_STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /** long syscall(long number, ...) with six arguments. */
    private static final FunctionDescriptor SYSCALL = FunctionDescriptor.of(
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);

    private static final ThreadLocal<MemorySegment> CALL_STATE_SEGMENT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));

    // Each downcall is linked on its first call, by a holder class of its own (the JIT still sees a
    // constant handle): a command that never runs a vCPU never links sigaction or the call without errno.
    private static final class Syscall {
        static final MethodHandle HANDLE =
                LINKER.downcallHandle(symbol("syscall"), SYSCALL, CAPTURE_ERRNO, Linker.Option.firstVariadicArg(1));
    }
    /** syscall without errno capture: KVM_RUN's path, see {@link #ioctlWithoutErrno}. */
    private static final class SyscallWithoutErrno {
        static final MethodHandle HANDLE =
                LINKER.downcallHandle(symbol("syscall"), SYSCALL, Linker.Option.firstVariadicArg(1));
    }
    /**
     * glibc's sigaction (the kernel's wants a restorer, which only glibc has), called in syscall's shape:
     * on x86-64 the signal and both pointers travel in the first three registers whatever the shape, the
     * callee ignores the rest, and its int result is the low half of the long. The linker keeps one stub
     * per shape and options, so this reuses {@link Syscall}'s instead of linking one of its own (5-20 ms in
     * a fresh JVM).
     */
    private static final class Sigaction {
        static final MethodHandle HANDLE =
                LINKER.downcallHandle(symbol("sigaction"), SYSCALL, CAPTURE_ERRNO, Linker.Option.firstVariadicArg(1));
    }
    /**
     * The handler of {@link #interruptOnSignal}: libc's getpid, async-signal-safe and without effect, so
     * the signal interrupts a blocking call and nothing else happens (a Java upcall must never run in
     * signal context, and the product has no C of its own).
     */
    private static final MemorySegment NO_OP_HANDLER = symbol("getpid");

    private Libc() {}

    /**
     * Links the downcalls now, on the calling thread, instead of on each one's first call: the one every
     * system call goes through, and with {@code forVcpus} also KVM_RUN's and sigaction's, which only a
     * thread that runs a vCPU makes. See {@link io.jvfio.sys.NativeCalls#link(boolean)}.
     */
    public static void linkDowncalls(boolean forVcpus) {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        try {
            lookup.ensureInitialized(Syscall.class);
            if (forVcpus) {
                lookup.ensureInitialized(Sigaction.class);
                lookup.ensureInitialized(SyscallWithoutErrno.class);
            }
        } catch (IllegalAccessException e) {
            throw new AssertionError("Libc cannot reach its own holder classes", e);
        }
    }

    private static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    private static MemorySegment callState() {
        return CALL_STATE_SEGMENT.get();
    }

    /** The errno captured by this thread's most recent failing call. */
    private static int lastErrno(MemorySegment state) {
        return state.get(JAVA_INT, ERRNO_OFFSET);
    }

    private static AssertionError unexpected(Throwable t) {
        return new AssertionError("native call failed unexpectedly", t);
    }

    /**
     * A pointer argument: the address of native memory. A heap segment has no address the kernel could
     * use (the linker refused one for an {@code ADDRESS} argument, too).
     */
    private static long pointer(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("a system call needs native memory, got a heap segment");
        }
        return segment.address();
    }

    /** System call {@code number}; its result, or -errno where it failed. */
    private static long syscallOrNegativeErrno(long number, long a1, long a2, long a3, long a4, long a5, long a6) {
        try {
            MemorySegment state = callState();
            long result = (long) Syscall.HANDLE.invokeExact(state, number, a1, a2, a3, a4, a5, a6);
            return result == -1 ? -lastErrno(state) : result;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** System call {@code number}; its result, or an {@link ErrnoException} naming {@code operation}. */
    private static long syscall(String operation, long number, long a1, long a2, long a3, long a4, long a5, long a6)
            throws ErrnoException {
        long result = syscallOrNegativeErrno(number, a1, a2, a3, a4, a5, a6);
        if (result < 0) {
            throw new ErrnoException(operation, (int) -result);
        }
        return result;
    }

    private static long syscall(String operation, long number, long a1, long a2, long a3) throws ErrnoException {
        return syscall(operation, number, a1, a2, a3, 0, 0, 0);
    }

    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return (int) syscall("open " + path, SYS_open, pointer(arena.allocateFrom(path)), flags, mode);
        }
    }

    /** close(2); the fd is released by the kernel even when close reports an error. */
    public static void close(int fd) throws ErrnoException {
        syscall("close", SYS_close, fd, 0, 0);
    }

    public static long read(int fd, MemorySegment buffer, long count, String operation) throws ErrnoException {
        try {
            return syscall(operation, SYS_read, fd, pointer(buffer), count);
        } finally {
            Reference.reachabilityFence(buffer);
        }
    }

    public static long write(int fd, MemorySegment buffer, long count, String operation) throws ErrnoException {
        try {
            return syscall(operation, SYS_write, fd, pointer(buffer), count);
        } finally {
            Reference.reachabilityFence(buffer);
        }
    }

    public static long pread(int fd, MemorySegment buffer, long count, long offset, String operation)
            throws ErrnoException {
        try {
            return syscall(operation, SYS_pread64, fd, pointer(buffer), count, offset, 0, 0);
        } finally {
            Reference.reachabilityFence(buffer);
        }
    }

    public static long pwrite(int fd, MemorySegment buffer, long count, long offset, String operation)
            throws ErrnoException {
        try {
            return syscall(operation, SYS_pwrite64, fd, pointer(buffer), count, offset, 0, 0);
        } finally {
            Reference.reachabilityFence(buffer);
        }
    }

    /** preadv(2) into the {@code count} struct iovecs at {@code iovecs}. */
    public static long preadv(int fd, MemorySegment iovecs, int count, long offset, String operation)
            throws ErrnoException {
        return vectored(SYS_preadv, fd, iovecs, count, offset, operation);
    }

    /** pwritev(2) from the {@code count} struct iovecs at {@code iovecs}. */
    public static long pwritev(int fd, MemorySegment iovecs, int count, long offset, String operation)
            throws ErrnoException {
        return vectored(SYS_pwritev, fd, iovecs, count, offset, operation);
    }

    /** The raw calls take the offset as two halves; on a 64-bit kernel the low one carries all of it. */
    private static long vectored(long number, int fd, MemorySegment iovecs, int count, long offset, String operation)
            throws ErrnoException {
        try {
            return syscall(operation, number, fd, pointer(iovecs), count, offset, 0, 0);
        } finally {
            Reference.reachabilityFence(iovecs);
        }
    }

    /** ioctl(2) with a pointer argument; {@code name} is the request's C name for the error message. */
    public static int ioctl(int fd, long request, MemorySegment argument, String name) throws ErrnoException {
        try {
            return (int) syscall(name, SYS_ioctl, fd, request, pointer(argument));
        } finally {
            Reference.reachabilityFence(argument);
        }
    }

    /** ioctl(2) with an integer argument (or none: pass 0). */
    public static int ioctl(int fd, long request, long argument, String name) throws ErrnoException {
        return (int) syscall(name, SYS_ioctl, fd, request, argument);
    }

    /**
     * ioctl(2) on an owned fd, which keeps its number for the call ({@link Fd#beginUse}): closed by another
     * thread meanwhile, the number cannot go to a file opened since, which would take this request.
     */
    public static int ioctl(Fd fd, long request, MemorySegment argument, String name) throws ErrnoException {
        int number = fd.beginUse();
        try {
            return ioctl(number, request, argument, name);
        } finally {
            fd.endUse();
        }
    }

    /** As {@link #ioctl(Fd, long, MemorySegment, String)}, with an integer argument (or none: pass 0). */
    public static int ioctl(Fd fd, long request, long argument, String name) throws ErrnoException {
        int number = fd.beginUse();
        try {
            return ioctl(number, request, argument, name);
        } finally {
            fd.endUse();
        }
    }

    /**
     * ioctl(2) returning the errno as a negative value instead of throwing: for calls whose failures are
     * expected outcomes (KVM_RUN's EINTR, capability probes).
     */
    public static int ioctlOrNegativeErrno(int fd, long request, long argument) {
        return (int) syscallOrNegativeErrno(SYS_ioctl, fd, request, argument, 0, 0, 0);
    }

    /**
     * ioctl(2) with an integer argument and no errno capture: -1 says only that the call failed. For a
     * call that is issued on every guest exit and may always be issued again, so that the caller learns
     * why from a second, capturing call ({@link #ioctlOrNegativeErrno}) only when the first failed: the
     * capture runs code in libjvm and libc and touches the per-thread state segment on every call, a
     * few percent of a trapped exit under nested KVM.
     */
    public static int ioctlWithoutErrno(int fd, long request, long argument) {
        try {
            return (int)
                    (long) SyscallWithoutErrno.HANDLE.invokeExact(SYS_ioctl, (long) fd, request, argument, 0L, 0L, 0L);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** mmap(2); returns the mapping's address. */
    public static long mmap(long address, long length, int prot, int flags, int fd, long offset, String operation)
            throws ErrnoException {
        return syscall(operation, SYS_mmap, address, length, prot, flags, fd, offset);
    }

    public static void munmap(long address, long length) throws ErrnoException {
        syscall("munmap", SYS_munmap, address, length, 0);
    }

    public static int eventfd(int initial, int flags) throws ErrnoException {
        return (int) syscall("eventfd", SYS_eventfd2, initial, flags, 0);
    }

    public static int epollCreate1(int flags) throws ErrnoException {
        return (int) syscall("epoll_create1", SYS_epoll_create1, flags, 0, 0);
    }

    public static void epollCtl(int epfd, int op, int fd, MemorySegment event) throws ErrnoException {
        try {
            syscall("epoll_ctl", SYS_epoll_ctl, epfd, op, fd, pointer(event), 0, 0);
        } finally {
            Reference.reachabilityFence(event);
        }
    }

    /** epoll_wait(2); EINTR is returned as 0 events, since callers simply wait again. */
    public static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis)
            throws ErrnoException {
        try {
            long n = syscallOrNegativeErrno(SYS_epoll_wait, epfd, pointer(events), maxEvents, timeoutMillis, 0, 0);
            if (n == -Errno.EINTR) {
                return 0;
            }
            if (n < 0) {
                throw new ErrnoException("epoll_wait", (int) -n);
            }
            return (int) n;
        } finally {
            Reference.reachabilityFence(events);
        }
    }

    public static int timerfdCreate(int clock, int flags) throws ErrnoException {
        return (int) syscall("timerfd_create", SYS_timerfd_create, clock, flags, 0);
    }

    public static void timerfdSettime(int fd, int flags, MemorySegment newValue) throws ErrnoException {
        try {
            syscall("timerfd_settime", SYS_timerfd_settime, fd, flags, pointer(newValue), 0, 0, 0);
        } finally {
            Reference.reachabilityFence(newValue);
        }
    }

    public static int memfdCreate(String name, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return (int) syscall("memfd_create", SYS_memfd_create, pointer(arena.allocateFrom(name)), flags, 0);
        }
    }

    public static void fdatasync(int fd, String operation) throws ErrnoException {
        syscall(operation, SYS_fdatasync, fd, 0, 0);
    }

    public static void ftruncate(int fd, long length) throws ErrnoException {
        syscall("ftruncate", SYS_ftruncate, fd, length, 0);
    }

    public static int socket(int domain, int type, int protocol) throws ErrnoException {
        return (int) syscall("socket", SYS_socket, domain, type, protocol);
    }

    public static int[] socketpair(int domain, int type, int protocol) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            syscall("socketpair", SYS_socketpair, domain, type, protocol, pointer(fds), 0, 0);
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    public static void bind(int fd, MemorySegment address, int length, String operation) throws ErrnoException {
        try {
            syscall(operation, SYS_bind, fd, pointer(address), length);
        } finally {
            Reference.reachabilityFence(address);
        }
    }

    public static void listen(int fd, int backlog) throws ErrnoException {
        syscall("listen", SYS_listen, fd, backlog, 0);
    }

    public static int accept4(int fd, int flags) throws ErrnoException {
        return (int) syscall("accept4", SYS_accept4, fd, 0, 0, flags, 0, 0);
    }

    public static void connect(int fd, MemorySegment address, int length, String operation) throws ErrnoException {
        try {
            syscall(operation, SYS_connect, fd, pointer(address), length);
        } finally {
            Reference.reachabilityFence(address);
        }
    }

    public static void shutdown(int fd, int how) throws ErrnoException {
        syscall("shutdown", SYS_shutdown, fd, how, 0);
    }

    public static long sendmsg(int fd, MemorySegment message, int flags) throws ErrnoException {
        try {
            return syscall("sendmsg", SYS_sendmsg, fd, pointer(message), flags);
        } finally {
            Reference.reachabilityFence(message);
        }
    }

    public static long recvmsg(int fd, MemorySegment message, int flags) throws ErrnoException {
        try {
            return syscall("recvmsg", SYS_recvmsg, fd, pointer(message), flags);
        } finally {
            Reference.reachabilityFence(message);
        }
    }

    /** send(2), which is sendto(2) without an address. */
    public static long send(int fd, MemorySegment buffer, long length, int flags) throws ErrnoException {
        try {
            return syscall("send", SYS_sendto, fd, pointer(buffer), length, flags, 0, 0);
        } finally {
            Reference.reachabilityFence(buffer);
        }
    }

    /**
     * recv(2) that reports failure as -errno instead of an exception: for a caller that polls a socket,
     * where EAGAIN is the usual answer.
     */
    public static long recvOrNegativeErrno(int fd, MemorySegment buffer, long length, int flags) {
        try {
            return syscallOrNegativeErrno(SYS_recvfrom, fd, pointer(buffer), length, flags, 0, 0);
        } finally {
            Reference.reachabilityFence(buffer);
        }
    }

    /** recv(2), which is recvfrom(2) without an address. */
    public static long recv(int fd, MemorySegment buffer, long length, int flags) throws ErrnoException {
        try {
            return syscall("recv", SYS_recvfrom, fd, pointer(buffer), length, flags, 0, 0);
        } finally {
            Reference.reachabilityFence(buffer);
        }
    }

    public static void setsockopt(int fd, int level, int option, MemorySegment value, String operation)
            throws ErrnoException {
        try {
            syscall(operation, SYS_setsockopt, fd, level, option, pointer(value), value.byteSize(), 0);
        } finally {
            Reference.reachabilityFence(value);
        }
    }

    /** poll(2): the ready fds, 0 on timeout, -1 when a signal ended the wait (EINTR). */
    public static int poll(MemorySegment fds, long count, int timeoutMillis) throws ErrnoException {
        try {
            long n = syscallOrNegativeErrno(SYS_poll, pointer(fds), count, timeoutMillis, 0, 0, 0);
            if (n == -Errno.EINTR) {
                return -1;
            }
            if (n < 0) {
                throw new ErrnoException("poll", (int) -n);
            }
            return (int) n;
        } finally {
            Reference.reachabilityFence(fds);
        }
    }

    public static int fcntl(int fd, int command, int argument) throws ErrnoException {
        return (int) syscall("fcntl", SYS_fcntl, fd, command, argument);
    }

    public static void chmod(String path, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            syscall("chmod " + path, SYS_chmod, pointer(arena.allocateFrom(path)), mode, 0);
        }
    }

    public static void rename(String from, String to) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            syscall(
                    "rename " + from + " to " + to,
                    SYS_rename,
                    pointer(arena.allocateFrom(from)),
                    pointer(arena.allocateFrom(to)),
                    0);
        }
    }

    public static int getpid() {
        return (int) syscallOrNegativeErrno(SYS_getpid, 0, 0, 0, 0, 0, 0);
    }

    /** The calling thread's kernel thread id, for {@link #tgkill}. */
    public static int gettid() {
        return (int) syscallOrNegativeErrno(SYS_gettid, 0, 0, 0, 0, 0, 0);
    }

    /**
     * Sends a signal to thread {@code tid} of process {@code pid}: how a vCPU blocked in KVM_RUN is kicked
     * out with EINTR. Returns 0, or -errno.
     */
    public static int tgkill(int pid, int tid, int signal) {
        return (int) syscallOrNegativeErrno(SYS_tgkill, pid, tid, signal, 0, 0, 0);
    }

    /**
     * timer_create(2): a timer on {@code clock}, disarmed, whose every expiry sends {@code signal} to
     * thread {@code tid} of this process alone. Returns the timer's id, for {@link #timerSettime} and
     * {@link #timerDelete}.
     */
    public static int threadTimerCreate(int clock, int signal, int tid) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(SIGEVENT_SIZE, 8);
            event.set(JAVA_INT, SIGEVENT_SIGNO, signal);
            event.set(JAVA_INT, SIGEVENT_NOTIFY, SIGEV_THREAD_ID);
            event.set(JAVA_INT, SIGEVENT_THREAD_ID, tid);
            MemorySegment id = arena.allocate(JAVA_INT);
            syscall("timer_create", SYS_timer_create, clock, pointer(event), pointer(id));
            return id.get(JAVA_INT, 0);
        }
    }

    /** timer_settime(2), relative, with {@code newValue} a struct itimerspec; the old value is not read. */
    public static void timerSettime(int timer, MemorySegment newValue) throws ErrnoException {
        try {
            syscall("timer_settime", SYS_timer_settime, timer, 0, pointer(newValue));
        } finally {
            Reference.reachabilityFence(newValue);
        }
    }

    public static void timerDelete(int timer) throws ErrnoException {
        syscall("timer_delete", SYS_timer_delete, timer, 0, 0);
    }

    /**
     * rt_sigprocmask(2) on the calling thread with a set of the first 64 signals (bit n-1 for signal n),
     * the kernel's whole sigset; returns the previous mask.
     */
    public static long signalMask(int how, long signals) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(KERNEL_SIGSET_BYTES, 8);
            MemorySegment old = arena.allocate(KERNEL_SIGSET_BYTES, 8);
            set.set(JAVA_LONG, 0, signals);
            syscall("rt_sigprocmask", SYS_rt_sigprocmask, how, pointer(set), pointer(old), KERNEL_SIGSET_BYTES, 0, 0);
            return old.get(JAVA_LONG, 0);
        }
    }

    /**
     * Makes {@code signal}, sent to a thread that does not block it, interrupt that thread's blocking call
     * (KVM_RUN returns EINTR) and do nothing else: installs a no-op handler with SA_RESTART, so calls
     * that restart after a handler still do. A handler someone else installed serves as well and is kept;
     * an ignored signal would never interrupt anything, so that disposition is replaced. Idempotent.
     */
    public static synchronized void interruptOnSignal(int signal) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment current = arena.allocate(SIGACTION_SIZE, 8);
            sigaction(signal, MemorySegment.NULL, current);
            long handler = current.get(JAVA_LONG, SIGACTION_HANDLER);
            if (handler != SIG_DFL && handler != SIG_IGN) {
                return;
            }
            MemorySegment action = arena.allocate(SIGACTION_SIZE, 8);
            action.set(ADDRESS, SIGACTION_HANDLER, NO_OP_HANDLER);
            action.set(JAVA_INT, SIGACTION_FLAGS, SA_RESTART);
            sigaction(signal, action, MemorySegment.NULL);
        }
    }

    private static void sigaction(int signal, MemorySegment action, MemorySegment old) throws ErrnoException {
        try {
            MemorySegment state = callState();
            int result = (int) (long)
                    Sigaction.HANDLE.invokeExact(state, (long) signal, action.address(), old.address(), 0L, 0L, 0L, 0L);
            if (result == -1) {
                throw new ErrnoException("sigaction " + signal, lastErrno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
