package io.jvfio.vfiouser;

import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.RegionCapability;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.Payload.Capability;
import io.jvfio.vfiouser.Payload.DeviceFeature;
import io.jvfio.vfiouser.Payload.DeviceGetInfo;
import io.jvfio.vfiouser.Payload.DeviceGetIrqInfo;
import io.jvfio.vfiouser.Payload.DeviceGetRegionInfo;
import io.jvfio.vfiouser.Payload.DeviceSetIrqs;
import io.jvfio.vfiouser.Payload.DmaAccess;
import io.jvfio.vfiouser.Payload.DmaMap;
import io.jvfio.vfiouser.Payload.DmaUnmap;
import io.jvfio.vfiouser.Payload.Empty;
import io.jvfio.vfiouser.Payload.IoFdEntry;
import io.jvfio.vfiouser.Payload.RegionAccess;
import io.jvfio.vfiouser.Payload.RegionIoFdsReply;
import io.jvfio.vfiouser.Payload.RegionIoFdsRequest;
import io.jvfio.vfiouser.Payload.Version;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Bytes to payloads and back. Decoding checks every length, count and offset against the bytes at
 * hand and throws only {@link ProtocolException}; semantic checks (does region 7 exist?) are the
 * server's and client's.
 */
public final class Codec {
    /** Host byte order: the specification's, for every field. */
    public static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** A capability chain longer than this is refused (loops are impossible: offsets must grow). */
    private static final int MAX_CAPABILITIES = 64;

    private Codec() {}

    /** A whole message (header + payload) as bytes, e.g. for tests and raw peers. */
    public static byte[] encode(int msgId, int command, int flags, int error, Payload payload) {
        int size = Header.SIZE + payload.encodedSize();
        ByteBuffer out = ByteBuffer.allocate(size).order(ORDER);
        new Header(msgId, command, size, flags, error).encodeTo(out);
        payload.encodeTo(out);
        return out.array();
    }

    /** Decodes a whole message given as bytes: the header, then {@link #decode} of the rest. */
    public static Message decodeMessage(byte[] bytes) throws ProtocolException {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ORDER);
        Header header = Header.decode(in);
        if (Integer.toUnsignedLong(header.size()) != bytes.length) {
            throw new ProtocolException(
                    "header says " + Integer.toUnsignedString(header.size()) + " bytes, message has " + bytes.length);
        }
        return new Message(header, decode(header, in.slice().order(ORDER)));
    }

    /** A header and its decoded payload. */
    public record Message(Header header, Payload payload) {}

    /**
     * Decodes the body of a message with this header: the whole of {@code body}'s remaining bytes,
     * which must be exactly the message's body. An error reply decodes as {@link Empty}.
     */
    public static Payload decode(Header header, ByteBuffer body) throws ProtocolException {
        return decodeOwned(header, body.slice().order(ORDER));
    }

    /**
     * {@link #decode}, reading {@code in} itself (in host byte order, from its position to its limit),
     * for a caller that keeps no other use of the buffer's position: the channel decodes every message
     * from one view of its receive buffer, without a buffer object per message. Payloads copy what
     * they keep.
     */
    static Payload decodeOwned(Header header, ByteBuffer in) throws ProtocolException {
        if (header.isError()) {
            return Empty.INSTANCE;
        }
        boolean reply = header.isReply();
        String what = what(header.command(), reply);
        return switch (header.command()) {
            case Command.VERSION -> version(in, what);
            case Command.DMA_MAP ->
                reply
                        ? empty(in, what)
                        : new DmaMap(
                                exact(in, DmaMap.SIZE, what).getInt(),
                                in.getInt(),
                                in.getLong(),
                                in.getLong(),
                                in.getLong());
            case Command.DMA_UNMAP ->
                new DmaUnmap(exact(in, DmaUnmap.SIZE, what).getInt(), in.getInt(), in.getLong(), in.getLong());
            case Command.DEVICE_GET_INFO ->
                new DeviceGetInfo(
                        query(in, DeviceGetInfo.SIZE, reply, what).getInt(), in.getInt(), in.getInt(), in.getInt());
            // offsets in these bodies count from the body's start
            case Command.DEVICE_GET_REGION_INFO -> regionInfo(in.slice().order(ORDER), reply, what);
            case Command.DEVICE_GET_REGION_IO_FDS ->
                reply
                        ? ioFdsReply(in.slice().order(ORDER), what)
                        : new RegionIoFdsRequest(
                                query(in, RegionIoFdsRequest.SIZE, false, what).getInt(),
                                in.getInt(),
                                in.getInt(),
                                in.getInt());
            case Command.DEVICE_GET_IRQ_INFO ->
                new DeviceGetIrqInfo(
                        query(in, DeviceGetIrqInfo.SIZE, reply, what).getInt(), in.getInt(), in.getInt(), in.getInt());
            case Command.DEVICE_SET_IRQS -> reply ? empty(in, what) : setIrqs(in, what);
            case Command.REGION_READ -> regionAccess(in, reply, what);
            case Command.REGION_WRITE -> regionAccess(in, !reply, what);
            case Command.DMA_READ -> dmaAccess(in, reply, false, what);
            case Command.DMA_WRITE -> dmaAccess(in, !reply, reply, what);
            case Command.DEVICE_RESET -> empty(in, what);
            case Command.DEVICE_FEATURE -> feature(in, what);
            // EINVAL as libvfio-user answers (and QEMU's client expects); the specification names none
            default -> throw new ProtocolException("unsupported " + what);
        };
    }

    /** "REGION_READ reply" and the like, made once per command: decoding builds no string unless it fails. */
    private static final String[][] WHAT = new String[Command.MIG_DATA_WRITE + 1][];

    static {
        for (int command = 0; command < WHAT.length; command++) {
            WHAT[command] = new String[] {Command.name(command) + " request", Command.name(command) + " reply"};
        }
    }

    private static String what(int command, boolean reply) {
        if (command >= 0 && command < WHAT.length) {
            return WHAT[command][reply ? 1 : 0];
        }
        return Command.name(command) + (reply ? " reply" : " request");
    }

    /** The body after an access's 16-byte header must be empty. */
    private static void nothingAfterHeader(ByteBuffer in, String what) throws ProtocolException {
        if (in.hasRemaining()) {
            exact(in, 0, what + " after its 16-byte header");
        }
    }

    private static ByteBuffer exact(ByteBuffer in, int size, String what) throws ProtocolException {
        if (in.remaining() != size) {
            throw new ProtocolException(what + ": payload is " + in.remaining() + " bytes, expected " + size);
        }
        return in;
    }

    /**
     * The fixed struct of an info query (DEVICE_GET_INFO, _REGION_INFO, _REGION_IO_FDS, _IRQ_INFO).
     * A request may carry more: libvfio-user's client sends its whole argsz-sized buffer with the
     * second DEVICE_GET_REGION_INFO, and libvfio-user's server reads the struct and ignores the rest;
     * so does jvfio. A reply must be exact.
     */
    private static ByteBuffer query(ByteBuffer in, int size, boolean reply, String what) throws ProtocolException {
        return reply ? exact(in, size, what) : atLeast(in, size, what);
    }

    private static ByteBuffer atLeast(ByteBuffer in, int size, String what) throws ProtocolException {
        if (in.remaining() < size) {
            throw new ProtocolException(what + ": payload is " + in.remaining() + " bytes, expected at least " + size);
        }
        return in;
    }

    private static Empty empty(ByteBuffer in, String what) throws ProtocolException {
        exact(in, 0, what);
        return Empty.INSTANCE;
    }

    private static byte[] rest(ByteBuffer in) {
        byte[] bytes = new byte[in.remaining()];
        in.get(bytes);
        return bytes;
    }

    private static Version version(ByteBuffer in, String what) throws ProtocolException {
        atLeast(in, 4, what);
        int major = Short.toUnsignedInt(in.getShort());
        int minor = Short.toUnsignedInt(in.getShort());
        if (!in.hasRemaining()) {
            return new Version(major, minor, Capabilities.defaults(), Set.of());
        }
        byte[] json = rest(in);
        int length = json.length - 1;
        if (json[length] != 0) {
            // the specification's "including terminating NUL"; libvfio-user refuses it too
            throw new ProtocolException(what + ": the version JSON does not end with a NUL");
        }
        for (int i = 0; i < length; i++) {
            if (json[i] == 0) {
                throw new ProtocolException(what + ": NUL inside the version JSON at byte " + i);
            }
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(json, 0, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(what + ": version data is not UTF-8");
        }
        Capabilities.Parsed parsed = Capabilities.parse(text);
        return new Version(major, minor, parsed.values(), parsed.names(), parsed.twinSocket());
    }

    private static DeviceGetRegionInfo regionInfo(ByteBuffer in, boolean reply, String what) throws ProtocolException {
        atLeast(in, DeviceGetRegionInfo.SIZE, what);
        int length = in.remaining();
        int argsz = in.getInt();
        int flags = in.getInt();
        int index = in.getInt();
        int capOffset = in.getInt();
        long size = in.getLong();
        long offset = in.getLong();
        List<Capability> capabilities = new ArrayList<>();
        boolean cutShort = Integer.toUnsignedLong(argsz) > length;
        if (reply
                && !cutShort
                && (flags & RegionInfo.FLAG_CAPS) != 0
                && Integer.toUnsignedLong(capOffset) < DeviceGetRegionInfo.SIZE) {
            // QEMU's client refuses this too (hw/vfio-user/device.c): the chain cannot start inside the struct
            throw new ProtocolException(what + ": FLAG_CAPS with cap_offset " + Integer.toUnsignedString(capOffset)
                    + ", inside the " + DeviceGetRegionInfo.SIZE + "-byte struct");
        }
        if (reply && capOffset != 0 && !(Integer.toUnsignedLong(capOffset) >= length && cutShort)) {
            long position = Integer.toUnsignedLong(capOffset);
            while (position != 0) {
                if (capabilities.size() == MAX_CAPABILITIES) {
                    throw new ProtocolException(what + ": more than " + MAX_CAPABILITIES + " capabilities");
                }
                if (position < DeviceGetRegionInfo.SIZE || position + 8 > length) {
                    throw new ProtocolException(what + ": capability at offset " + position + " lies outside the "
                            + length + "-byte payload");
                }
                int id = Short.toUnsignedInt(in.getShort((int) position));
                int version = Short.toUnsignedInt(in.getShort((int) position + 2));
                long next = Integer.toUnsignedLong(in.getInt((int) position + 4));
                if (next != 0 && (next < position + 8 || next > length)) {
                    throw new ProtocolException(what + ": capability at offset " + position + " has next offset " + next
                            + " (must lie after it, within " + length + " bytes)");
                }
                long end = next == 0 ? length : next;
                byte[] body = new byte[(int) (end - position - 8)];
                in.get((int) position + 8, body);
                capabilities.add(new Capability(id, version, Bytes.adopt(body)));
                position = next;
            }
        }
        return new DeviceGetRegionInfo(argsz, flags, index, size, offset, capabilities);
    }

    private static RegionIoFdsReply ioFdsReply(ByteBuffer in, String what) throws ProtocolException {
        atLeast(in, RegionIoFdsReply.SIZE, what);
        int length = in.remaining();
        int argsz = in.getInt();
        int flags = in.getInt();
        int index = in.getInt();
        int count = in.getInt();
        if (count == 0 || length == RegionIoFdsReply.SIZE) {
            if (length != RegionIoFdsReply.SIZE) {
                throw new ProtocolException(what + ": " + (length - RegionIoFdsReply.SIZE) + " bytes after 0 entries");
            }
            return new RegionIoFdsReply(argsz, flags, index, count, List.of());
        }
        long unsignedCount = Integer.toUnsignedLong(count);
        long room = Integer.toUnsignedLong(argsz) - RegionIoFdsReply.SIZE;
        long stride = room / unsignedCount;
        if (room < 0 || stride < IoFdEntry.SPEC_SIZE || stride * unsignedCount != room) {
            throw new ProtocolException(what + ": argsz " + Integer.toUnsignedString(argsz)
                    + " gives no whole entry stride" + " of at least " + IoFdEntry.SPEC_SIZE + " bytes for "
                    + Integer.toUnsignedString(count) + " entries");
        }
        if (RegionIoFdsReply.SIZE + room != length) {
            throw new ProtocolException(what + ": " + Integer.toUnsignedString(count) + " entries of " + stride
                    + " bytes need " + (RegionIoFdsReply.SIZE + room) + " bytes, payload has " + length);
        }
        List<IoFdEntry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int base = (int) (RegionIoFdsReply.SIZE + i * stride);
            entries.add(new IoFdEntry(
                    in.getLong(base),
                    in.getLong(base + 8),
                    in.getInt(base + 16),
                    in.getInt(base + 20),
                    in.getInt(base + 24),
                    in.getLong(base + 32)));
        }
        return new RegionIoFdsReply(argsz, flags, index, count, entries);
    }

    private static DeviceSetIrqs setIrqs(ByteBuffer in, String what) throws ProtocolException {
        atLeast(in, DeviceSetIrqs.SIZE, what);
        int argsz = in.getInt();
        int flags = in.getInt();
        int index = in.getInt();
        int start = in.getInt();
        int count = in.getInt();
        Bytes data = Bytes.adopt(rest(in));
        boolean bools = (flags & IrqSet.DATA_BOOL) != 0;
        if (bools && Integer.toUnsignedLong(count) != data.length()) {
            throw new ProtocolException(what + ": DATA_BOOL with count " + Integer.toUnsignedString(count) + " but "
                    + data.length() + " data bytes");
        }
        if (!bools && data.length() != 0) {
            throw new ProtocolException(what + ": " + data.length() + " data bytes without DATA_BOOL");
        }
        return new DeviceSetIrqs(argsz, flags, index, start, count, data);
    }

    private static RegionAccess regionAccess(ByteBuffer in, boolean carriesData, String what) throws ProtocolException {
        atLeast(in, RegionAccess.SIZE, what);
        long offset = in.getLong();
        int region = in.getInt();
        int count = in.getInt();
        if (!carriesData) {
            nothingAfterHeader(in, what);
            return RegionAccess.of(offset, region, count);
        }
        if (Integer.toUnsignedLong(count) != in.remaining()) {
            throw new ProtocolException(
                    what + ": count " + Integer.toUnsignedString(count) + " but " + in.remaining() + " data bytes");
        }
        return new RegionAccess(offset, region, count, Bytes.adopt(rest(in)));
    }

    private static DmaAccess dmaAccess(ByteBuffer in, boolean carriesData, boolean writeReply, String what)
            throws ProtocolException {
        if (writeReply && in.remaining() == 12) {
            // The specification gives the DMA_WRITE reply a 4-byte count; libvfio-user and QEMU send 8.
            return DmaAccess.of(in.getLong(), Integer.toUnsignedLong(in.getInt()));
        }
        atLeast(in, DmaAccess.SIZE, what);
        long address = in.getLong();
        long count = in.getLong();
        if (!carriesData) {
            nothingAfterHeader(in, what);
            return DmaAccess.of(address, count);
        }
        if (count != in.remaining()) {
            throw new ProtocolException(
                    what + ": count " + Long.toUnsignedString(count) + " but " + in.remaining() + " data bytes");
        }
        return new DmaAccess(address, count, Bytes.adopt(rest(in)));
    }

    private static DeviceFeature feature(ByteBuffer in, String what) throws ProtocolException {
        atLeast(in, DeviceFeature.SIZE, what);
        return new DeviceFeature(in.getInt(), in.getInt(), Bytes.adopt(rest(in)));
    }

    /** The VFIO_REGION_INFO_CAP_SPARSE_MMAP capability (version 1) for these areas. */
    public static Capability sparseMmapCapability(List<SparseArea> areas) {
        return areasCapability(RegionCapability.SPARSE_MMAP, areas);
    }

    /** jvfio's read-only mmap capability (version 1, laid out as SPARSE_MMAP) for these areas. */
    public static Capability readOnlyMmapCapability(List<SparseArea> areas) {
        return areasCapability(RegionCapability.JVFIO_READ_ONLY_MMAP, areas);
    }

    private static Capability areasCapability(int id, List<SparseArea> areas) {
        ByteBuffer body = ByteBuffer.allocate(8 + 16 * areas.size()).order(ORDER);
        body.putInt(areas.size()).putInt(0);
        for (SparseArea area : areas) {
            body.putLong(area.offset()).putLong(area.size());
        }
        return new Capability(id, 1, Bytes.adopt(body.array()));
    }

    /**
     * The areas of a sparse-mmap capability, or of jvfio's read-only one (then read-only areas); checks
     * nr_areas against the bytes at hand.
     */
    public static List<SparseArea> sparseAreas(Capability capability) throws ProtocolException {
        boolean readOnly = capability.id() == RegionCapability.JVFIO_READ_ONLY_MMAP;
        String what = readOnly ? "read-only mmap capability" : "sparse mmap capability";
        ByteBuffer body = capability.body().asReadOnlyBuffer().order(ORDER);
        int length = body.remaining();
        if (length < 8) {
            throw new ProtocolException(what + " has " + length + " bytes, needs at least 8");
        }
        long count = Integer.toUnsignedLong(body.getInt());
        body.getInt();
        if (count > (length - 8) / 16) {
            throw new ProtocolException(what + " claims " + count + " areas but holds " + (length - 8) / 16);
        }
        List<SparseArea> areas = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            long offset = body.getLong();
            long size = body.getLong();
            if (offset < 0 || size < 0) {
                throw new ProtocolException(what + " area " + i + " has offset or size beyond 2^63");
            }
            areas.add(new SparseArea(offset, size, readOnly));
        }
        return areas;
    }

    /** Decodes UTF-8 strictly (for strings inside payloads). */
    static String utf8(ByteBuffer bytes, String what) throws ProtocolException {
        try {
            CharBuffer chars = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(what + " is not UTF-8");
        }
    }
}
