package io.jvfio.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc downcalls jvfio makes, each returning the raw result and throwing {@link ErrnoException}
 * with the errno that call set. Internal to {@code sys}: the rest of jvfio uses the typed owners
 * ({@link Fd}, {@link EventFd}, {@link Mapping}, ...) and never sees a {@link MemorySegment}.
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
    /** glibc's sigset_t is 1024 bits; the kernel's is the first 64. */
    private static final int GLIBC_SIGSET_BYTES = 128;
    /** glibc's struct sigaction on x86-64: handler, mask, flags, restorer (SignalsTest checks it with gcc). */
    static final long SIGACTION_SIZE = 152;
    static final long SIGACTION_HANDLER = 0;
    static final long SIGACTION_MASK = 8;
    static final long SIGACTION_FLAGS = 136;
    private static final long SIG_DFL = 0;
    private static final long SIG_IGN = 1;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final ThreadLocal<MemorySegment> CALL_STATE_SEGMENT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));

    // Each downcall is linked on its first call, by a holder class of its own (the JIT still sees a
    // constant handle): linking spins a stub and lambda forms per signature, 5-10 ms apiece in a fresh
    // JVM, and a command such as `jvfio info` calls a handful of these 41.
    private static final class Open {
        static final MethodHandle HANDLE = errnoHandle("open",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    }
    private static final class Close {
        static final MethodHandle HANDLE = errnoHandle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }
    private static final class Read {
        static final MethodHandle HANDLE = errnoHandle("read",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }
    private static final class Write {
        static final MethodHandle HANDLE = errnoHandle("write",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }
    private static final class Pread {
        static final MethodHandle HANDLE = errnoHandle("pread64",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }
    private static final class Pwrite {
        static final MethodHandle HANDLE = errnoHandle("pwrite64",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }
    private static final class IoctlPtr {
        static final MethodHandle HANDLE = errnoHandle("ioctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
    }
    private static final class IoctlLong {
        static final MethodHandle HANDLE = errnoHandle("ioctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    }
    /** ioctl without errno capture: KVM_RUN's path, see {@link #ioctlWithoutErrno}. */
    private static final class IoctlLongNoErrno {
        static final MethodHandle HANDLE = LINKER.downcallHandle(symbol("ioctl"),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    }
    private static final class Mmap {
        static final MethodHandle HANDLE = errnoHandle("mmap",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    }
    private static final class Munmap {
        static final MethodHandle HANDLE = errnoHandle("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    }
    private static final class Eventfd {
        static final MethodHandle HANDLE = errnoHandle("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }
    private static final class EpollCreate1 {
        static final MethodHandle HANDLE = errnoHandle("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }
    private static final class EpollCtl {
        static final MethodHandle HANDLE = errnoHandle("epoll_ctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    }
    private static final class EpollWait {
        static final MethodHandle HANDLE = errnoHandle("epoll_wait",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    }
    private static final class TimerfdCreate {
        static final MethodHandle HANDLE = errnoHandle("timerfd_create",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }
    private static final class TimerfdSettime {
        static final MethodHandle HANDLE = errnoHandle("timerfd_settime",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }
    private static final class MemfdCreate {
        static final MethodHandle HANDLE = errnoHandle("memfd_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Ftruncate {
        static final MethodHandle HANDLE = errnoHandle("ftruncate",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    }
    private static final class Socket {
        static final MethodHandle HANDLE = errnoHandle("socket",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }
    private static final class Socketpair {
        static final MethodHandle HANDLE = errnoHandle("socketpair",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    }
    private static final class Bind {
        static final MethodHandle HANDLE = errnoHandle("bind",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Listen {
        static final MethodHandle HANDLE = errnoHandle("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }
    private static final class Accept4 {
        static final MethodHandle HANDLE = errnoHandle("accept4",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    }
    private static final class Connect {
        static final MethodHandle HANDLE = errnoHandle("connect",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Shutdown {
        static final MethodHandle HANDLE = errnoHandle("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }
    private static final class Sendmsg {
        static final MethodHandle HANDLE = errnoHandle("sendmsg",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Recvmsg {
        static final MethodHandle HANDLE = errnoHandle("recvmsg",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Recv {
        static final MethodHandle HANDLE = errnoHandle("recv",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }
    private static final class Setsockopt {
        static final MethodHandle HANDLE = errnoHandle("setsockopt",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Poll {
        static final MethodHandle HANDLE = errnoHandle("poll",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }
    private static final class Fcntl {
        static final MethodHandle HANDLE = errnoHandle("fcntl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), 2);
    }
    private static final class Chmod {
        static final MethodHandle HANDLE = errnoHandle("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }
    private static final class Rename {
        static final MethodHandle HANDLE = errnoHandle("rename", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    private static final class Unlink {
        static final MethodHandle HANDLE = errnoHandle("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    private static final class Getpid {
        static final MethodHandle HANDLE = LINKER.downcallHandle(symbol("getpid"), FunctionDescriptor.of(JAVA_INT));
    }
    private static final class Gettid {
        static final MethodHandle HANDLE = LINKER.downcallHandle(symbol("gettid"), FunctionDescriptor.of(JAVA_INT));
    }
    private static final class PthreadSelf {
        static final MethodHandle HANDLE = LINKER.downcallHandle(symbol("pthread_self"),
                FunctionDescriptor.of(JAVA_LONG));
    }
    private static final class PthreadKill {
        static final MethodHandle HANDLE = LINKER.downcallHandle(symbol("pthread_kill"),
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
    }
    private static final class PthreadSigmask {
        static final MethodHandle HANDLE = LINKER.downcallHandle(symbol("pthread_sigmask"),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }
    private static final class Sigaction {
        static final MethodHandle HANDLE = errnoHandle("sigaction",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }
    /**
     * The handler of {@link #interruptOnSignal}: libc's getpid, async-signal-safe and without effect, so
     * the signal interrupts a blocking call and nothing else happens (a Java upcall must never run in
     * signal context, and the product has no C of its own).
     */
    private static final MemorySegment NO_OP_HANDLER = symbol("getpid");

    private Libc() {
    }

    private static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    private static MethodHandle errnoHandle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(name), descriptor, CAPTURE_ERRNO);
    }

    private static MethodHandle errnoHandle(String name, FunctionDescriptor descriptor, int firstVariadicArg) {
        return LINKER.downcallHandle(symbol(name), descriptor, CAPTURE_ERRNO,
                Linker.Option.firstVariadicArg(firstVariadicArg));
    }

    private static MemorySegment callState() {
        return CALL_STATE_SEGMENT.get();
    }

    /** The errno captured by this thread's most recent failing call. */
    private static int lastErrno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static int check(int result, MemorySegment state, String operation) throws ErrnoException {
        if (result == -1) {
            throw new ErrnoException(operation, lastErrno(state));
        }
        return result;
    }

    private static long check(long result, MemorySegment state, String operation) throws ErrnoException {
        if (result == -1L) {
            throw new ErrnoException(operation, lastErrno(state));
        }
        return result;
    }

    private static AssertionError unexpected(Throwable t) {
        return new AssertionError("native call failed unexpectedly", t);
    }

    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            return check((int) Open.HANDLE.invokeExact(state, arena.allocateFrom(path), flags, mode), state,
                    "open " + path);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** close(2); the fd is released by the kernel even when close reports an error. */
    public static void close(int fd) throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) Close.HANDLE.invokeExact(state, fd), state, "close");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long read(int fd, MemorySegment buffer, long count, String operation) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((long) Read.HANDLE.invokeExact(state, fd, buffer, count), state, operation);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long write(int fd, MemorySegment buffer, long count, String operation) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((long) Write.HANDLE.invokeExact(state, fd, buffer, count), state, operation);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long pread(int fd, MemorySegment buffer, long count, long offset, String operation) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((long) Pread.HANDLE.invokeExact(state, fd, buffer, count, offset), state, operation);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long pwrite(int fd, MemorySegment buffer, long count, long offset, String operation) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((long) Pwrite.HANDLE.invokeExact(state, fd, buffer, count, offset), state, operation);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** ioctl(2) with a pointer argument; {@code name} is the request's C name for the error message. */
    public static int ioctl(int fd, long request, MemorySegment argument, String name) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((int) IoctlPtr.HANDLE.invokeExact(state, fd, request, argument), state, name);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** ioctl(2) with an integer argument (or none: pass 0). */
    public static int ioctl(int fd, long request, long argument, String name) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((int) IoctlLong.HANDLE.invokeExact(state, fd, request, argument), state, name);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * ioctl(2) returning the errno as a negative value instead of throwing: for calls whose failures are
     * expected outcomes (KVM_RUN's EINTR, capability probes).
     */
    public static int ioctlOrNegativeErrno(int fd, long request, long argument) {
        try {
            MemorySegment state = callState();
            int result = (int) IoctlLong.HANDLE.invokeExact(state, fd, request, argument);
            return result == -1 ? -lastErrno(state) : result;
        } catch (Throwable t) {
            throw unexpected(t);
        }
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
            return (int) IoctlLongNoErrno.HANDLE.invokeExact(fd, request, argument);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** mmap(2); returns the mapping's address. */
    public static long mmap(long address, long length, int prot, int flags, int fd, long offset, String operation)
            throws ErrnoException {
        try {
            MemorySegment state = callState();
            MemorySegment result = (MemorySegment) Mmap.HANDLE.invokeExact(state, MemorySegment.ofAddress(address),
                    length, prot, flags, fd, offset);
            if (result.address() == -1L) {
                throw new ErrnoException(operation, lastErrno(state));
            }
            return result.address();
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void munmap(long address, long length) throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) Munmap.HANDLE.invokeExact(state, MemorySegment.ofAddress(address), length), state, "munmap");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int eventfd(int initial, int flags) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((int) Eventfd.HANDLE.invokeExact(state, initial, flags), state, "eventfd");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int epollCreate1(int flags) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((int) EpollCreate1.HANDLE.invokeExact(state, flags), state, "epoll_create1");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void epollCtl(int epfd, int op, int fd, MemorySegment event) throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) EpollCtl.HANDLE.invokeExact(state, epfd, op, fd, event), state, "epoll_ctl");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** epoll_wait(2); EINTR is returned as 0 events, since callers simply wait again. */
    public static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) throws ErrnoException {
        try {
            MemorySegment state = callState();
            int n = (int) EpollWait.HANDLE.invokeExact(state, epfd, events, maxEvents, timeoutMillis);
            if (n == -1 && lastErrno(state) == Errno.EINTR) {
                return 0;
            }
            return check(n, state, "epoll_wait");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int timerfdCreate(int clock, int flags) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((int) TimerfdCreate.HANDLE.invokeExact(state, clock, flags), state, "timerfd_create");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void timerfdSettime(int fd, int flags, MemorySegment newValue) throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) TimerfdSettime.HANDLE.invokeExact(state, fd, flags, newValue, MemorySegment.NULL), state,
                    "timerfd_settime");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int memfdCreate(String name, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            return check((int) MemfdCreate.HANDLE.invokeExact(state, arena.allocateFrom(name), flags), state,
                    "memfd_create");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void ftruncate(int fd, long length) throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) Ftruncate.HANDLE.invokeExact(state, fd, length), state, "ftruncate");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int socket(int domain, int type, int protocol) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((int) Socket.HANDLE.invokeExact(state, domain, type, protocol), state, "socket");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int[] socketpair(int domain, int type, int protocol) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            MemorySegment state = callState();
            check((int) Socketpair.HANDLE.invokeExact(state, domain, type, protocol, fds), state, "socketpair");
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void bind(int fd, MemorySegment address, int length, String operation) throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) Bind.HANDLE.invokeExact(state, fd, address, length), state, operation);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void listen(int fd, int backlog) throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) Listen.HANDLE.invokeExact(state, fd, backlog), state, "listen");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int accept4(int fd, int flags) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((int) Accept4.HANDLE.invokeExact(state, fd, MemorySegment.NULL, MemorySegment.NULL, flags),
                    state, "accept4");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void connect(int fd, MemorySegment address, int length, String operation) throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) Connect.HANDLE.invokeExact(state, fd, address, length), state, operation);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void shutdown(int fd, int how) throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) Shutdown.HANDLE.invokeExact(state, fd, how), state, "shutdown");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long sendmsg(int fd, MemorySegment message, int flags) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((long) Sendmsg.HANDLE.invokeExact(state, fd, message, flags), state, "sendmsg");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long recvmsg(int fd, MemorySegment message, int flags) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((long) Recvmsg.HANDLE.invokeExact(state, fd, message, flags), state, "recvmsg");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long recv(int fd, MemorySegment buffer, long length, int flags) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((long) Recv.HANDLE.invokeExact(state, fd, buffer, length, flags), state, "recv");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void setsockopt(int fd, int level, int option, MemorySegment value, String operation)
            throws ErrnoException {
        try {
            MemorySegment state = callState();
            check((int) Setsockopt.HANDLE.invokeExact(state, fd, level, option, value, (int) value.byteSize()), state,
                    operation);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** poll(2); EINTR is returned as 0 ready fds. */
    public static int poll(MemorySegment fds, long count, int timeoutMillis) throws ErrnoException {
        try {
            MemorySegment state = callState();
            int n = (int) Poll.HANDLE.invokeExact(state, fds, count, timeoutMillis);
            if (n == -1 && lastErrno(state) == Errno.EINTR) {
                return 0;
            }
            return check(n, state, "poll");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int fcntl(int fd, int command, int argument) throws ErrnoException {
        try {
            MemorySegment state = callState();
            return check((int) Fcntl.HANDLE.invokeExact(state, fd, command, argument), state, "fcntl");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void chmod(String path, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            check((int) Chmod.HANDLE.invokeExact(state, arena.allocateFrom(path), mode), state, "chmod " + path);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void rename(String from, String to) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            check((int) Rename.HANDLE.invokeExact(state, arena.allocateFrom(from), arena.allocateFrom(to)), state,
                    "rename " + from + " to " + to);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void unlink(String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            check((int) Unlink.HANDLE.invokeExact(state, arena.allocateFrom(path)), state, "unlink " + path);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int getpid() {
        try {
            return (int) Getpid.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int gettid() {
        try {
            return (int) Gettid.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** The calling thread's pthread handle, for {@link #pthreadKill}. */
    public static long pthreadSelf() {
        try {
            return (long) PthreadSelf.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Sends a signal to one thread: how a vCPU blocked in KVM_RUN is kicked out with EINTR. */
    public static int pthreadKill(long thread, int signal) {
        try {
            return (int) PthreadKill.HANDLE.invokeExact(thread, signal);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * pthread_sigmask(3) on the calling thread with a set of the first 64 signals (bit n-1 for signal n);
     * returns the previous mask's first 64 signals.
     */
    public static long pthreadSigmask(int how, long signals) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(GLIBC_SIGSET_BYTES, 8);
            MemorySegment old = arena.allocate(GLIBC_SIGSET_BYTES, 8);
            set.set(JAVA_LONG, 0, signals);
            int error = (int) PthreadSigmask.HANDLE.invokeExact(how, set, old);
            if (error != 0) {
                throw new ErrnoException("pthread_sigmask", error);
            }
            return old.get(JAVA_LONG, 0);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
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
            check((int) Sigaction.HANDLE.invokeExact(state, signal, action, old), state, "sigaction " + signal);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Reinterprets a raw address as a segment of {@code size} bytes; for kernel-provided memory. */
    public static MemorySegment segmentAt(long address, long size) {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }
}
