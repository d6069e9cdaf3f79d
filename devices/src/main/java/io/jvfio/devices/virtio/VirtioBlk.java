package io.jvfio.devices.virtio;

import io.jvfio.devices.DeviceOptions;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.IoVector;
import io.jvfio.vfiouser.server.DeviceContext;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The virtio block device (virtio 1.2, section 5.2; docs/devices/virtio-blk.md): device ID 2, one request
 * queue, backed by a host file whose whole 512-byte sectors are the disk. Serves reads, writes, flushes
 * (VIRTIO_BLK_F_FLUSH: the file is forced to its storage) and GET_ID; offers VIRTIO_BLK_F_RO when the
 * file is served read-only. Every request's data goes between the file and the driver's buffers through
 * the DMA windows, and each gets its status byte: OK, IOERR (past the capacity, a write to a read-only
 * disk, a host I/O error) or UNSUPP (a request type the device does not know).
 */
public final class VirtioBlk implements VirtioBackend {
    private static final System.Logger LOG = System.getLogger(VirtioBlk.class.getName());
    /** The catalog name. */
    public static final String KIND = "virtio-blk";

    public static final int DEVICE_ID = 2;
    public static final int REQUEST_QUEUE = 0;
    /**
     * As QEMU's virtio-blk: with seg_max two less, a 1 MiB direct read in the guest (a 4 KiB page a
     * segment) needs two requests, not the three a 128-entry queue's 126 segments made of it.
     */
    public static final int QUEUE_SIZE = 256;

    public static final int SECTOR_SIZE = 512;

    /** VIRTIO_BLK_F_SIZE_MAX: no data buffer longer than size_max. */
    public static final long FEATURE_SIZE_MAX = 1L << 1;
    /** VIRTIO_BLK_F_SEG_MAX: no request with more than seg_max data buffers. */
    public static final long FEATURE_SEG_MAX = 1L << 2;
    /** VIRTIO_BLK_F_RO: the disk is read-only. */
    public static final long FEATURE_RO = 1L << 5;
    /** VIRTIO_BLK_F_FLUSH: VIRTIO_BLK_T_FLUSH is supported. */
    public static final long FEATURE_FLUSH = 1L << 9;

    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;

    public static final int S_OK = 0;
    public static final int S_IOERR = 1;
    public static final int S_UNSUPP = 2;

    /** The request header: type (le32), reserved (le32), sector (le64). */
    public static final int HEADER_SIZE = 16;
    /** The GET_ID answer's length: the serial, NUL-padded, unterminated when it is all 20 bytes. */
    public static final int ID_SIZE = 20;
    /** size_max: the longest data buffer, as much as the device moves in one DMA. */
    public static final int SIZE_MAX = 64 * 1024;
    /**
     * The most data one request may carry, 2 GiB less a sector (QEMU's limit too): the used ring's length
     * and the device's counts of what it wrote are 32-bit, and a driver must not make a chain longer than
     * 2^32 bytes in total anyway (the split virtqueue's descriptor table rules). A chain of overlapping
     * buffers (a hostile driver's) can say more; it gets IOERR, with nothing read or written.
     */
    public static final int MAX_REQUEST_BYTES = Integer.MAX_VALUE & -SECTOR_SIZE;
    /** The most data bytes one host read or write of the file moves. */
    static final int STAGING_SIZE = 1 << 20;
    /** seg_max: the header and the status take two of a queue's descriptors, as Linux's own reckoning. */
    public static final int SEG_MAX = QUEUE_SIZE - 2;

    /** The configuration space's fields (virtio 1.2, 5.2.4), little-endian. */
    public static final int CONFIG_CAPACITY = 0;

    public static final int CONFIG_SIZE_MAX = 8;
    public static final int CONFIG_SEG_MAX = 12;
    private static final int CONFIG_END = 16;

    private final Path path;
    private final Fd file;
    /**
     * The driver's buffers of the request being served, gathered for one preadv or pwritev of the file
     * (serve runs under the transport's lock): IOV_MAX pieces, more than any chain seg_max allows.
     */
    private final IoVector pieces = new IoVector(1024);

    private final boolean readOnly;
    private final long capacity;
    private final byte[] id;
    private final byte[] config = new byte[CONFIG_END];
    /**
     * Where a request's data passes between the file and the driver's buffers, reused from request to
     * request (serve runs under the transport's lock), so that a direct read in the guest (a buffer a page)
     * takes one host read per MiB, not a host read and a fresh buffer per page.
     */
    private final byte[] staging;
    /**
     * The file's side of {@link #staging}: a direct buffer the kernel reads into and writes from, made at
     * the first staged request (a client that maps its memory never needs one). A heap buffer would make
     * each host read and write allocate and clear a native buffer of its size.
     */
    private ByteBuffer stagingDirect;

    /**
     * The driver did not negotiate VIRTIO_BLK_F_FLUSH, so each write is stable once completed (virtio 1.2,
     * 5.2.6.2): it is forced to storage before its status says OK. True from reset until FEATURES_OK.
     */
    private boolean writeThrough = true;

    private long reads;
    private long writes;
    private long writeSyncs;
    private long flushes;
    private long ids;
    private long bytesRead;
    private long bytesWritten;
    /** Data bytes that passed through {@link #staging}: where the client shares its memory only by messages. */
    private long bytesStaged;

    private long ioErrors;
    private long unsupported;
    private boolean loggedTooLong;
    /** Whether {@link #close} ran; like the rest, under the transport's lock. */
    private boolean closed;

    /**
     * Serves {@code path}; the caller's descriptor becomes this device's, closed with it.
     *
     * @param capacity the disk's size in sectors, which the driver reads from the configuration space
     */
    private VirtioBlk(Path path, Fd file, boolean readOnly, long capacity, int stagingSize) {
        this.path = path;
        this.file = file;
        this.readOnly = readOnly;
        this.staging = new byte[stagingSize];
        this.capacity = capacity;
        String fileName =
                path.getFileName() == null ? "disk" : path.getFileName().toString();
        byte[] name = fileName.getBytes(StandardCharsets.US_ASCII);
        this.id = Arrays.copyOf(name, Math.min(name.length, ID_SIZE));
        ByteBuffer.wrap(config)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(CONFIG_CAPACITY, capacity)
                .putInt(CONFIG_SIZE_MAX, SIZE_MAX)
                .putInt(CONFIG_SEG_MAX, SEG_MAX);
    }

    /**
     * Opens {@code path} (for reading and writing unless {@code readOnly}); its whole 512-byte sectors are
     * the disk, a tail shorter than a sector is left out.
     *
     * @throws IllegalArgumentException naming the file and why it cannot be served
     */
    public static VirtioBlk open(Path path, boolean readOnly) {
        return open(path, readOnly, STAGING_SIZE);
    }

    /** As {@link #open(Path, boolean)}, moving at most {@code stagingSize} bytes per host read or write. */
    static VirtioBlk open(Path path, boolean readOnly, int stagingSize) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException(
                    "--file " + path + ": " + (Files.exists(path) ? "not a regular file" : "no such file"));
        }
        Fd file;
        try {
            file = readOnly ? Fd.openReadOnly(path.toString()) : Fd.openReadWrite(path.toString());
        } catch (ErrnoException e) {
            throw new IllegalArgumentException(
                    "--file " + path + ": cannot open" + (readOnly ? "" : " for reading and writing") + ": "
                            + e.getMessage(),
                    e);
        }
        try {
            long size = Files.size(path);
            if (size < SECTOR_SIZE) {
                throw new IllegalArgumentException(
                        "--file " + path + ": " + size + " bytes is less than one " + SECTOR_SIZE + "-byte sector");
            }
            return new VirtioBlk(path, file, readOnly, size / SECTOR_SIZE, stagingSize);
        } catch (IOException | RuntimeException e) {
            file.close();
            if (e instanceof IllegalArgumentException illegal) {
                throw illegal;
            }
            throw new IllegalArgumentException("--file " + path + ": cannot read its size: " + e.getMessage(), e);
        }
    }

    /**
     * A virtio-blk on the virtio-mmio transport, from catalog options: {@code --file} is required,
     * {@code --read-only} optional.
     *
     * @throws IllegalArgumentException naming a missing file, one that cannot be served, or an option of
     *                                  another model
     */
    public static VirtioMmioDevice create(DeviceOptions options) {
        if (options.irqs().isPresent() || options.levelMask().isPresent()) {
            throw new IllegalArgumentException(
                    "virtio-blk has one level IRQ: --irqs and --level-mask are options of test-device");
        }
        if (options.serialSocket().isPresent()) {
            throw new IllegalArgumentException(
                    "--serial-socket is an option of ns16550a; virtio-blk has no serial line");
        }
        if (options.seed().isPresent()) {
            throw new IllegalArgumentException("--seed is an option of virtio-rng; virtio-blk has no entropy source");
        }
        Path path = options.file()
                .orElseThrow(() -> new IllegalArgumentException(
                        "virtio-blk needs --file PATH, the host file that backs the disk"));
        return new VirtioMmioDevice(open(path, options.readOnly()));
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public int deviceId() {
        return DEVICE_ID;
    }

    @Override
    public long features() {
        return FEATURE_SIZE_MAX | FEATURE_SEG_MAX | FEATURE_FLUSH | (readOnly ? FEATURE_RO : 0);
    }

    @Override
    public List<Integer> queueSizes() {
        return List.of(QUEUE_SIZE);
    }

    @Override
    public void featuresNegotiated(long features) {
        writeThrough = (features & FEATURE_FLUSH) == 0;
    }

    @Override
    public int readConfig(int offset) {
        return offset >= 0 && offset < config.length ? config[offset] & 0xFF : 0;
    }

    /**
     * One request: the header in the first 16 device-readable bytes, the data after it (readable for a
     * write, writable for a read or GET_ID), the status in the last writable byte. Returns the bytes
     * written into the driver's buffers from the first writable one on: the data read, and the status
     * byte where it follows that data directly. The file is read or written
     * only once every buffer of the request is known to lie inside the DMA windows with its access, as
     * QEMU maps them all first: a request with a buffer outside them touches nothing of the file.
     *
     * @throws MalformedQueueException when the chain has no room for header or status, or buffers outside
     *                                 the DMA windows
     */
    @Override
    public int serve(int queue, DescriptorChain chain, GuestMemory memory) throws MalformedQueueException {
        Request request = Request.of(chain);
        byte[] header = new byte[HEADER_SIZE];
        gather(chain.head(), request.header, header, memory);
        check(chain.head(), List.of(request.status), memory);
        ByteBuffer fields = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int type = fields.getInt(0);
        long sector = fields.getLong(8);
        Outcome outcome = switch (type) {
            case T_IN -> read(chain.head(), sector, request.data, memory);
            case T_OUT -> new Outcome(write(chain.head(), sector, request.data, memory), 0);
            case T_FLUSH -> new Outcome(flush(), 0);
            case T_GET_ID -> getId(chain.head(), request.data, memory);
            default -> {
                unsupported++;
                yield new Outcome(S_UNSUPP, 0);
            }
        };
        if (outcome.status == S_IOERR) {
            ioErrors++;
        }
        put(chain.head(), request.status, new byte[] {(byte) outcome.status}, memory);
        // The used length promises every byte from the first writable one on (virtio 1.2, 2.7.8.1): the
        // status byte counts only where the data before it was written whole.
        return outcome.written == writableLength(request.data) ? outcome.written + 1 : outcome.written;
    }

    /** A request's status, and how many data bytes the device wrote into the driver's buffers before it. */
    private record Outcome(int status, int written) {
        static final Outcome IOERR = new Outcome(S_IOERR, 0);
    }

    private Outcome read(int head, long sector, List<DescriptorChain.Buffer> data, GuestMemory memory)
            throws MalformedQueueException {
        reads++;
        long length = totalLength(data);
        if (!deviceWritable(data) || tooLong("read", head, length) || !withinCapacity(sector, length)) {
            return Outcome.IOERR;
        }
        long start = sector * SECTOR_SIZE;
        try {
            if (direct(head, data, true, memory, buffers -> readFile(buffers, start))) {
                bytesRead += length;
                return new Outcome(S_OK, (int) length);
            }
        } catch (HostIoException e) {
            hostError("read", start, e.hostError());
            return Outcome.IOERR;
        }
        check(head, data, memory);
        long position = start;
        int written = 0;
        Scatter buffers = new Scatter(head, data);
        while (buffers.remaining() > 0) {
            int span = (int) Math.min(buffers.remaining(), staging.length);
            ByteBuffer bytes = stagingDirect().clear().limit(span);
            try {
                while (bytes.hasRemaining()) {
                    if (file.pread(bytes, position + bytes.position()) == 0) {
                        break;
                    }
                }
            } catch (IOException e) {
                hostError("read", position, e);
                return new Outcome(S_IOERR, written);
            }
            bytes.get(0, staging, 0, bytes.position());
            // The file shrank under the device: the sectors past its end read as zeros.
            Arrays.fill(staging, bytes.position(), span, (byte) 0);
            buffers.put(staging, span, memory);
            position += span;
            written += span;
            bytesRead += span;
            bytesStaged += span;
        }
        return new Outcome(S_OK, written);
    }

    private int write(int head, long sector, List<DescriptorChain.Buffer> data, GuestMemory memory)
            throws MalformedQueueException {
        writes++;
        long length = totalLength(data);
        if (readOnly || !deviceReadable(data) || tooLong("write", head, length) || !withinCapacity(sector, length)) {
            return S_IOERR;
        }
        long start = sector * SECTOR_SIZE;
        try {
            if (direct(head, data, false, memory, buffers -> writeFile(buffers, start))) {
                bytesWritten += length;
                return madeStable(start);
            }
        } catch (HostIoException e) {
            hostError("write", start, e.hostError());
            return S_IOERR;
        }
        // Staged, a span goes to the file before the next is read from the driver's buffers: a buffer
        // outside the windows found on the way would leave the request's earlier part written.
        check(head, data, memory);
        long position = start;
        Scatter buffers = new Scatter(head, data);
        while (buffers.remaining() > 0) {
            int span = (int) Math.min(buffers.remaining(), staging.length);
            buffers.take(staging, span, memory);
            try {
                ByteBuffer source =
                        stagingDirect().clear().put(staging, 0, span).flip();
                while (source.hasRemaining()) {
                    file.pwrite(source, position + source.position());
                }
            } catch (IOException e) {
                hostError("write", position, e);
                return S_IOERR;
            }
            position += span;
            bytesWritten += span;
            bytesStaged += span;
        }
        return madeStable(start);
    }

    /** OK for a write at {@code position} once it is stable: forced to storage where the driver has no flush. */
    private int madeStable(long position) {
        if (!writeThrough) {
            return S_OK;
        }
        writeSyncs++;
        try {
            file.fdatasync();
            return S_OK;
        } catch (IOException e) {
            hostError("write", position, e);
            return S_IOERR;
        }
    }

    /**
     * Moves a request's data between the file and the driver's buffers with no copy in the device, as a
     * disk's DMA does: one preadv (or pwritev) of the file straight into (from) the client's memory, the
     * buffers gathered in {@link #pieces}. False where the buffers are not reachable so (the staging copy
     * then serves).
     *
     * @throws HostIoException when the file's read or write failed
     * @throws MalformedQueueException when a buffer lies outside the DMA windows
     */
    private boolean direct(
            int head,
            List<DescriptorChain.Buffer> data,
            boolean deviceWrites,
            GuestMemory memory,
            DeviceContext.DirectTransfer transfer)
            throws HostIoException, MalformedQueueException {
        try {
            return memory.direct(data, deviceWrites, pieces, transfer);
        } catch (HostIoException e) {
            throw e;
        } catch (IOException e) {
            throw new MalformedQueueException(
                    "virtio-blk: request " + head + ": cannot reach its buffers: " + e.getMessage());
        }
    }

    /** The file's bytes from {@code position} on into the gathered buffers; past the file's end, zeros. */
    private void readFile(IoVector buffers, long position) throws HostIoException {
        try {
            file.preadFully(buffers, position);
        } catch (ErrnoException e) {
            throw new HostIoException(e);
        }
    }

    /** The gathered buffers into the file from {@code position} on. */
    private void writeFile(IoVector buffers, long position) throws HostIoException {
        try {
            file.pwriteFully(buffers, position);
        } catch (ErrnoException e) {
            throw new HostIoException(e);
        }
    }

    /** The host file's I/O failed: the request gets IOERR, unlike a buffer outside the windows. */
    private static final class HostIoException extends IOException {
        HostIoException(ErrnoException cause) {
            super(cause);
        }

        ErrnoException hostError() {
            return (ErrnoException) getCause();
        }
    }

    /**
     * A request's data buffers walked in order, {@code span} bytes at a time, between them and the staging
     * buffer: one host read or write serves as many of the driver's buffers (a page each, from a direct
     * read) as fit in it.
     */
    private static final class Scatter {
        private final int head;
        private final List<DescriptorChain.Buffer> buffers;
        private int next;
        private int offset;
        private long remaining;

        Scatter(int head, List<DescriptorChain.Buffer> buffers) {
            this.head = head;
            this.buffers = buffers;
            this.remaining = totalLength(buffers);
        }

        long remaining() {
            return remaining;
        }

        /** The next {@code span} bytes of {@code staging} into the driver's buffers. */
        void put(byte[] staging, int span, GuestMemory memory) throws MalformedQueueException {
            move(staging, span, memory, true);
        }

        /** The driver's next {@code span} bytes into {@code staging}. */
        void take(byte[] staging, int span, GuestMemory memory) throws MalformedQueueException {
            move(staging, span, memory, false);
        }

        private void move(byte[] staging, int span, GuestMemory memory, boolean toDriver)
                throws MalformedQueueException {
            for (int done = 0; done < span; ) {
                DescriptorChain.Buffer buffer = buffers.get(next);
                int chunk = Math.min(buffer.length() - offset, span - done);
                long address = buffer.address() + offset;
                try {
                    if (toDriver) {
                        memory.write(address, staging, done, chunk);
                    } else {
                        memory.read(address, staging, done, chunk);
                    }
                } catch (IOException e) {
                    throw outside(head, new DescriptorChain.Buffer(address, chunk, toDriver), e);
                }
                done += chunk;
                offset += chunk;
                if (offset == buffer.length()) {
                    next++;
                    offset = 0;
                }
            }
            remaining -= span;
        }
    }

    private ByteBuffer stagingDirect() {
        if (stagingDirect == null) {
            stagingDirect = ByteBuffer.allocateDirect(staging.length);
        }
        return stagingDirect;
    }

    private int flush() {
        flushes++;
        if (readOnly) {
            return S_OK;
        }
        try {
            file.fdatasync();
            return S_OK;
        } catch (IOException e) {
            hostError("flush", 0, e);
            return S_IOERR;
        }
    }

    private Outcome getId(int head, List<DescriptorChain.Buffer> data, GuestMemory memory)
            throws MalformedQueueException {
        ids++;
        if (!deviceWritable(data) || totalLength(data) < ID_SIZE) {
            return Outcome.IOERR;
        }
        byte[] answer = Arrays.copyOf(id, ID_SIZE);
        int done = 0;
        for (DescriptorChain.Buffer buffer : data) {
            int chunk = Math.min(buffer.length(), ID_SIZE - done);
            if (chunk == 0) {
                // The serial is whole, or the buffer is empty (a zero-length descriptor is legal): a later
                // buffer may still be the serial's.
                continue;
            }
            put(
                    head,
                    new DescriptorChain.Buffer(buffer.address(), chunk, true),
                    Arrays.copyOfRange(answer, done, done + chunk),
                    memory);
            done += chunk;
        }
        return new Outcome(S_OK, done);
    }

    /** Whether the request's data is longer than {@link #MAX_REQUEST_BYTES}: logged the first time. */
    private boolean tooLong(String operation, int head, long length) {
        if (length <= MAX_REQUEST_BYTES) {
            return false;
        }
        if (!loggedTooLong) {
            loggedTooLong = true;
            LOG.log(
                    Level.WARNING,
                    "virtio-blk: {0} request {1} of {2} bytes is longer than the {3} a request may move: IOERR"
                            + " (logged once)",
                    operation,
                    head,
                    Long.toString(length),
                    Integer.toString(MAX_REQUEST_BYTES));
        }
        return true;
    }

    /** Whole sectors, all of them below the capacity. */
    private boolean withinCapacity(long sector, long length) {
        if (length % SECTOR_SIZE != 0 || sector < 0 || sector > capacity) {
            return false;
        }
        return length / SECTOR_SIZE <= capacity - sector;
    }

    // Plain loops: a request of a large direct read has a buffer a page, and the device serves it on C1
    // alone in the nested guest, where streams cost more than the loop's work.
    private static boolean deviceWritable(List<DescriptorChain.Buffer> data) {
        for (DescriptorChain.Buffer buffer : data) {
            if (!buffer.deviceWritable()) {
                return false;
            }
        }
        return true;
    }

    private static boolean deviceReadable(List<DescriptorChain.Buffer> data) {
        for (DescriptorChain.Buffer buffer : data) {
            if (buffer.deviceWritable()) {
                return false;
            }
        }
        return true;
    }

    private static long writableLength(List<DescriptorChain.Buffer> data) {
        long total = 0;
        for (DescriptorChain.Buffer buffer : data) {
            if (buffer.deviceWritable()) {
                total += buffer.length();
            }
        }
        return total;
    }

    private static long totalLength(List<DescriptorChain.Buffer> data) {
        long total = 0;
        for (DescriptorChain.Buffer buffer : data) {
            total += buffer.length();
        }
        return total;
    }

    private void hostError(String operation, long position, IOException e) {
        LOG.log(
                Level.WARNING,
                "virtio-blk: {0} of {1} at byte {2} failed: {3}",
                operation,
                path,
                position,
                e.getMessage());
    }

    /** Reads the buffers' bytes, in order, into {@code destination}. */
    private static void gather(int head, List<DescriptorChain.Buffer> buffers, byte[] destination, GuestMemory memory)
            throws MalformedQueueException {
        int done = 0;
        for (DescriptorChain.Buffer buffer : buffers) {
            try {
                memory.read(buffer.address(), destination, done, buffer.length());
            } catch (IOException e) {
                throw outside(head, buffer, e);
            }
            done += buffer.length();
        }
    }

    private static void put(int head, DescriptorChain.Buffer buffer, byte[] source, GuestMemory memory)
            throws MalformedQueueException {
        try {
            memory.write(buffer.address(), source, 0, source.length);
        } catch (IOException e) {
            throw outside(head, buffer, e);
        }
    }

    /**
     * Checks, moving nothing, that each of {@code buffers} lies inside the DMA windows with the access its
     * role needs, before the request touches the file.
     */
    private static void check(int head, List<DescriptorChain.Buffer> buffers, GuestMemory memory)
            throws MalformedQueueException {
        try {
            memory.check(buffers);
        } catch (IOException e) {
            throw new MalformedQueueException(
                    "virtio-blk: request " + head + ": cannot reach its buffers: " + e.getMessage());
        }
    }

    private static MalformedQueueException outside(int head, DescriptorChain.Buffer buffer, IOException e) {
        return new MalformedQueueException("virtio-blk: request " + head + ": cannot reach its buffer at 0x"
                + Long.toHexString(buffer.address()) + ": " + e.getMessage());
    }

    /**
     * A request's buffers split by role: the header's 16 bytes (as pieces of the readable buffers), the
     * data between, and the status byte (the last writable byte).
     */
    private record Request(
            List<DescriptorChain.Buffer> header, List<DescriptorChain.Buffer> data, DescriptorChain.Buffer status) {
        static Request of(DescriptorChain chain) throws MalformedQueueException {
            List<DescriptorChain.Buffer> buffers = new ArrayList<>(chain.buffers());
            List<DescriptorChain.Buffer> header = new ArrayList<>();
            int headerNeeded = HEADER_SIZE;
            while (headerNeeded > 0 && !buffers.isEmpty() && !buffers.getFirst().deviceWritable()) {
                DescriptorChain.Buffer first = buffers.removeFirst();
                int taken = Math.min(first.length(), headerNeeded);
                header.add(new DescriptorChain.Buffer(first.address(), taken, false));
                headerNeeded -= taken;
                if (taken < first.length()) {
                    buffers.addFirst(
                            new DescriptorChain.Buffer(first.address() + taken, first.length() - taken, false));
                }
            }
            if (headerNeeded > 0) {
                throw new MalformedQueueException("virtio-blk: request " + chain.head() + " has fewer than "
                        + HEADER_SIZE + " device-readable bytes for its header");
            }
            if (buffers.isEmpty()
                    || !buffers.getLast().deviceWritable()
                    || buffers.getLast().length() == 0) {
                throw new MalformedQueueException(
                        "virtio-blk: request " + chain.head() + " ends without a device-writable status byte");
            }
            DescriptorChain.Buffer last = buffers.removeLast();
            if (last.length() > 1) {
                buffers.addLast(new DescriptorChain.Buffer(last.address(), last.length() - 1, true));
            }
            DescriptorChain.Buffer status = new DescriptorChain.Buffer(last.address() + last.length() - 1, 1, true);
            return new Request(header, buffers, status);
        }
    }

    @Override
    public String describe() {
        return path + ": " + capacity + " sectors of " + SECTOR_SIZE + " bytes" + (readOnly ? ", read-only" : "");
    }

    /**
     * Requests by type (reads, writes, flushes, GET_IDs, unsupported ones), the writes forced to storage
     * as they completed (no VIRTIO_BLK_F_FLUSH negotiated), the bytes moved each way and the requests
     * that got IOERR.
     */
    @Override
    public Map<String, Long> totals() {
        Map<String, Long> totals = new LinkedHashMap<>();
        totals.put("blk.reads", reads);
        totals.put("blk.writes", writes);
        totals.put("blk.flushes", flushes);
        totals.put("blk.write-syncs", writeSyncs);
        totals.put("blk.get-ids", ids);
        totals.put("blk.unsupported", unsupported);
        totals.put("blk.ioerrs", ioErrors);
        totals.put("blk.bytes-read", bytesRead);
        totals.put("blk.bytes-written", bytesWritten);
        totals.put("blk.bytes-staged", bytesStaged);
        return totals;
    }

    /**
     * Closes the file and frees the gathered buffers' vector, once: the transport passes on every close
     * of the device, which {@code ModelledDevice} promises is idempotent (a second close of the vector's
     * arena would throw).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        file.close();
        pieces.close();
    }
}
