package io.jvfio.platform.devicetree;

import static io.jvfio.platform.devicetree.Fdt.FDT_BEGIN_NODE;
import static io.jvfio.platform.devicetree.Fdt.FDT_END;
import static io.jvfio.platform.devicetree.Fdt.FDT_END_NODE;
import static io.jvfio.platform.devicetree.Fdt.FDT_MAGIC;
import static io.jvfio.platform.devicetree.Fdt.FDT_NOP;
import static io.jvfio.platform.devicetree.Fdt.FDT_PROP;
import static io.jvfio.platform.devicetree.Fdt.FDT_RESERVE_ENTRY_SIZE;
import static io.jvfio.platform.devicetree.Fdt.FDT_TAGSIZE;
import static io.jvfio.platform.devicetree.Fdt.FDT_V16_SIZE;
import static io.jvfio.platform.devicetree.Fdt.FDT_V17_SIZE;
import static io.jvfio.platform.devicetree.Fdt.FDT_VERSION;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * Parses a DTB (version 16 or 17, as dtc and QEMU write them) into a {@link DeviceTree}. Every size,
 * offset and token is checked against the blob before it is used, so a malformed or hostile blob gives a
 * {@link DtbFormatException} naming the problem and its offset, never an unchecked exception. Checked:
 * the magic; the header's length, versions and totalsize against the blob; each block inside totalsize
 * and after the header, with the alignment the format requires; the reservation map's end marker; the
 * token stream (a single root with an empty name, properties before subnodes, balanced
 * BEGIN_NODE/END_NODE, FDT_END at the end, nesting at most {@value #MAX_DEPTH} deep); names NUL-terminated
 * inside their block and valid; property values and name offsets inside their blocks; unique names and
 * phandles. Bytes after FDT_END inside the structure block and after totalsize are ignored.
 */
public final class FdtReader {
    /** The deepest nesting accepted (the root is depth 1). */
    public static final int MAX_DEPTH = 64;

    private final byte[] blob;
    private int structStart;
    private int structEnd;
    private int stringsStart;
    private int stringsEnd;

    private FdtReader(byte[] blob) {
        this.blob = blob;
    }

    /** Parses {@code dtb}. */
    public static DeviceTree read(byte[] dtb) throws DtbFormatException {
        return new FdtReader(dtb).parse();
    }

    /** Reads and parses the DTB file at {@code file}. */
    public static DeviceTree read(Path file) throws IOException {
        return read(Files.readAllBytes(file));
    }

    private DeviceTree parse() throws DtbFormatException {
        if (blob.length < FDT_V16_SIZE) {
            if (blob.length >= 4 && u32(0) != FDT_MAGIC) {
                throw badMagic();
            }
            throw new DtbFormatException(
                    blob.length,
                    "truncated: " + blob.length + " bytes is shorter than a DTB header (" + FDT_V16_SIZE
                            + " bytes at least)");
        }
        if (u32(Fdt.OFF_MAGIC) != FDT_MAGIC) {
            throw badMagic();
        }
        long version = unsigned(u32(Fdt.OFF_VERSION));
        long lastCompVersion = unsigned(u32(Fdt.OFF_LAST_COMP_VERSION));
        if (lastCompVersion > FDT_VERSION) {
            throw new DtbFormatException(
                    Fdt.OFF_LAST_COMP_VERSION,
                    "last_comp_version " + lastCompVersion + " is newer than version " + FDT_VERSION
                            + ", the newest this reader understands");
        }
        if (version < 16) {
            throw new DtbFormatException(
                    Fdt.OFF_VERSION, "version " + version + " is older than 16, the oldest this reader understands");
        }
        int headerSize = version >= 17 ? FDT_V17_SIZE : FDT_V16_SIZE;
        if (blob.length < headerSize) {
            throw new DtbFormatException(
                    blob.length,
                    "truncated: " + blob.length + " bytes is shorter than a version " + version + " header ("
                            + headerSize + " bytes)");
        }
        long totalSize = unsigned(u32(Fdt.OFF_TOTALSIZE));
        if (totalSize > blob.length) {
            throw new DtbFormatException(
                    blob.length,
                    "truncated: header says totalsize " + totalSize + " but the blob has " + blob.length + " bytes");
        }
        if (totalSize < headerSize) {
            throw new DtbFormatException(
                    Fdt.OFF_TOTALSIZE,
                    "totalsize " + totalSize + " is smaller than the header (" + headerSize + " bytes)");
        }

        long offRsvmap = unsigned(u32(Fdt.OFF_OFF_MEM_RSVMAP));
        long offStruct = unsigned(u32(Fdt.OFF_OFF_DT_STRUCT));
        long offStrings = unsigned(u32(Fdt.OFF_OFF_DT_STRINGS));
        long sizeStrings = unsigned(u32(Fdt.OFF_SIZE_DT_STRINGS));
        checkBlock("off_mem_rsvmap", Fdt.OFF_OFF_MEM_RSVMAP, offRsvmap, 0, 8, headerSize, totalSize);
        checkBlock("off_dt_strings", Fdt.OFF_OFF_DT_STRINGS, offStrings, sizeStrings, 1, headerSize, totalSize);
        long sizeStruct;
        if (version >= 17) {
            sizeStruct = unsigned(u32(Fdt.OFF_SIZE_DT_STRUCT));
        } else {
            sizeStruct = totalSize - Math.min(offStruct, totalSize);
        }
        checkBlock("off_dt_struct", Fdt.OFF_OFF_DT_STRUCT, offStruct, sizeStruct, FDT_TAGSIZE, headerSize, totalSize);
        structStart = (int) offStruct;
        structEnd = (int) (offStruct + sizeStruct);
        stringsStart = (int) offStrings;
        stringsEnd = (int) (offStrings + sizeStrings);

        List<MemoryReservation> reservations = readReservations((int) offRsvmap, (int) totalSize);
        Node root = readStructure();
        try {
            return new DeviceTree(root, reservations, u32(Fdt.OFF_BOOT_CPUID_PHYS));
        } catch (IllegalArgumentException e) {
            throw new DtbFormatException(structStart, e.getMessage(), e);
        }
    }

    private DtbFormatException badMagic() {
        return new DtbFormatException(
                0,
                String.format(
                        "bad magic 0x%08x, expected 0x%08x (not a DTB)", blob.length >= 4 ? u32(0) : 0, FDT_MAGIC));
    }

    private static void checkBlock(
            String field, int fieldOffset, long offset, long size, int alignment, int headerSize, long totalSize)
            throws DtbFormatException {
        if (offset < headerSize || offset > totalSize) {
            throw new DtbFormatException(
                    fieldOffset,
                    field + " " + offset + " is outside [" + headerSize + ", " + totalSize
                            + "], the space after the header within totalsize");
        }
        if (offset % alignment != 0) {
            throw new DtbFormatException(fieldOffset, field + " " + offset + " is not " + alignment + "-byte aligned");
        }
        if (offset + size > totalSize) {
            throw new DtbFormatException(
                    fieldOffset,
                    field + " " + offset + " with size " + size + " ends at " + (offset + size) + ", past totalsize "
                            + totalSize);
        }
    }

    private List<MemoryReservation> readReservations(int start, int totalSize) throws DtbFormatException {
        List<MemoryReservation> reservations = new ArrayList<>();
        for (int entry = start; ; entry += FDT_RESERVE_ENTRY_SIZE) {
            if ((long) entry + FDT_RESERVE_ENTRY_SIZE > totalSize) {
                throw new DtbFormatException(
                        entry,
                        "memory reservation map runs past totalsize " + totalSize + " without its 0/0 end entry");
            }
            long address = u64(entry);
            long size = u64(entry + 8);
            if (address == 0 && size == 0) {
                return List.copyOf(reservations);
            }
            try {
                reservations.add(new MemoryReservation(address, size));
            } catch (IllegalArgumentException e) {
                throw new DtbFormatException(entry, e.getMessage(), e);
            }
        }
    }

    /** One open node while the structure block is read. */
    private static final class Open {
        final Node.Builder builder;
        boolean sawChild;

        Open(Node.Builder builder) {
            this.builder = builder;
        }
    }

    private Node readStructure() throws DtbFormatException {
        Deque<Open> open = new ArrayDeque<>();
        Node root = null;
        int at = structStart;
        while (true) {
            int tokenAt = at;
            int token = structU32(at, "a token");
            at += 4;
            switch (token) {
                case FDT_BEGIN_NODE -> {
                    int nameEnd = nulIndex(at, structEnd);
                    if (nameEnd < 0) {
                        throw new DtbFormatException(at, "node name is not NUL-terminated within the structure block");
                    }
                    String name = new String(blob, at, nameEnd - at, StandardCharsets.ISO_8859_1);
                    at = alignedWithin(nameEnd + 1, tokenAt);
                    if (open.isEmpty()) {
                        if (root != null) {
                            throw new DtbFormatException(
                                    tokenAt,
                                    "a second top-level node \"" + Names.printable(name) + "\" after the root node");
                        }
                        if (!name.isEmpty()) {
                            throw new DtbFormatException(
                                    tokenAt, "the root node's name is \"" + Names.printable(name) + "\", not empty");
                        }
                        open.push(new Open(Node.builder("")));
                    } else {
                        if (open.size() >= MAX_DEPTH) {
                            throw new DtbFormatException(tokenAt, "nodes nested more than " + MAX_DEPTH + " deep");
                        }
                        Open parent = open.peek();
                        parent.sawChild = true;
                        try {
                            open.push(new Open(parent.builder.childBuilder(name)));
                        } catch (IllegalArgumentException e) {
                            throw new DtbFormatException(tokenAt, invalidName(parent, name, e), e);
                        }
                    }
                }
                case FDT_END_NODE -> {
                    if (open.isEmpty()) {
                        throw new DtbFormatException(tokenAt, "FDT_END_NODE with no node open");
                    }
                    Open done = open.pop();
                    Node node;
                    try {
                        node = done.builder.build();
                    } catch (IllegalArgumentException e) {
                        throw new DtbFormatException(tokenAt, e.getMessage(), e);
                    }
                    if (open.isEmpty()) {
                        root = node;
                    } else {
                        try {
                            open.peek().builder.child(node);
                        } catch (IllegalArgumentException e) {
                            throw new DtbFormatException(tokenAt, e.getMessage(), e);
                        }
                    }
                }
                case FDT_PROP -> {
                    int length = structU32(at, "a property's length");
                    int nameOffset = structU32(at + 4, "a property's name offset");
                    at += 8;
                    if (open.isEmpty()) {
                        throw new DtbFormatException(tokenAt, "FDT_PROP outside any node");
                    }
                    Open owner = open.peek();
                    if (owner.sawChild) {
                        throw new DtbFormatException(
                                tokenAt,
                                "node " + owner.builder.path()
                                        + ": property after a subnode (properties must come first)");
                    }
                    String name = propertyName(tokenAt + 8, nameOffset);
                    if (length < 0 || length > structEnd - at) {
                        throw new DtbFormatException(
                                tokenAt + 4,
                                "node " + owner.builder.path() + ": property \""
                                        + name + "\" has length " + unsigned(length)
                                        + ", past the structure block's end at "
                                        + structEnd);
                    }
                    byte[] value = Arrays.copyOfRange(blob, at, at + length);
                    at = alignedWithin(at + length, tokenAt);
                    try {
                        owner.builder.property(Property.bytes(name, value));
                    } catch (IllegalArgumentException e) {
                        String message = e.getMessage().startsWith("node ")
                                ? e.getMessage()
                                : "node " + owner.builder.path() + ": " + e.getMessage();
                        throw new DtbFormatException(tokenAt, message, e);
                    }
                }
                case FDT_NOP -> {}
                case FDT_END -> {
                    if (!open.isEmpty()) {
                        throw new DtbFormatException(
                                tokenAt,
                                "FDT_END while " + open.size() + " node(s) are still open, the innermost "
                                        + open.peek().builder.path());
                    }
                    if (root == null) {
                        throw new DtbFormatException(tokenAt, "FDT_END before any node: the tree has no root");
                    }
                    return root;
                }
                default ->
                    throw new DtbFormatException(
                            tokenAt, String.format("unknown token 0x%x in the structure block", token));
            }
        }
    }

    private static String invalidName(Open parent, String name, IllegalArgumentException e) {
        return e.getMessage().startsWith("node ")
                ? e.getMessage()
                : "node " + Node.childPath(parent.builder.path(), Names.printable(name)) + ": " + e.getMessage();
    }

    private String propertyName(int fieldAt, int nameOffset) throws DtbFormatException {
        long stringsSize = stringsEnd - stringsStart;
        if (nameOffset < 0 || nameOffset >= stringsSize) {
            throw new DtbFormatException(
                    fieldAt,
                    "property name offset " + unsigned(nameOffset) + " is outside the strings block (size "
                            + stringsSize + ")");
        }
        int start = stringsStart + nameOffset;
        int end = nulIndex(start, stringsEnd);
        if (end < 0) {
            throw new DtbFormatException(
                    start,
                    "property name at strings offset " + nameOffset
                            + " is not NUL-terminated within the strings block");
        }
        return new String(blob, start, end - start, StandardCharsets.ISO_8859_1);
    }

    /** {@code position} rounded up to the tag size, which must still lie within the structure block. */
    private int alignedWithin(int position, int tokenAt) throws DtbFormatException {
        int aligned = (position + FDT_TAGSIZE - 1) & -FDT_TAGSIZE;
        if (aligned > structEnd) {
            throw new DtbFormatException(
                    tokenAt, "padding after this token runs past the structure block's end at " + structEnd);
        }
        return aligned;
    }

    private int nulIndex(int from, int end) {
        for (int i = from; i < end; i++) {
            if (blob[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    private int structU32(int at, String what) throws DtbFormatException {
        if (at < structStart || at > structEnd - 4) {
            throw new DtbFormatException(
                    at, "the structure block (ending at " + structEnd + ") ends inside " + what + ", without FDT_END");
        }
        return u32(at);
    }

    private int u32(int at) {
        return ((blob[at] & 0xff) << 24)
                | ((blob[at + 1] & 0xff) << 16)
                | ((blob[at + 2] & 0xff) << 8)
                | (blob[at + 3] & 0xff);
    }

    private long u64(int at) {
        return (unsigned(u32(at)) << 32) | unsigned(u32(at + 4));
    }

    private static long unsigned(int value) {
        return Integer.toUnsignedLong(value);
    }
}
