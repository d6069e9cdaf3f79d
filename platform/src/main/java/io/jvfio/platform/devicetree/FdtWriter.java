package io.jvfio.platform.devicetree;

import static io.jvfio.platform.devicetree.Fdt.FDT_BEGIN_NODE;
import static io.jvfio.platform.devicetree.Fdt.FDT_END;
import static io.jvfio.platform.devicetree.Fdt.FDT_END_NODE;
import static io.jvfio.platform.devicetree.Fdt.FDT_LAST_COMP_VERSION;
import static io.jvfio.platform.devicetree.Fdt.FDT_MAGIC;
import static io.jvfio.platform.devicetree.Fdt.FDT_PROP;
import static io.jvfio.platform.devicetree.Fdt.FDT_TAGSIZE;
import static io.jvfio.platform.devicetree.Fdt.FDT_V17_SIZE;
import static io.jvfio.platform.devicetree.Fdt.FDT_VERSION;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a {@link DeviceTree} as a DTB of version 17 (last compatible 16), laid out as dtc lays it out:
 * the 40-byte header, the memory-reservation map (8-byte aligned, ended by a 0/0 entry), the structure
 * block, then the strings block. Property names are stored once each in the strings block, in order of
 * first use; node names and property values are NUL-padded to 4 bytes. The output depends only on the
 * tree, byte for byte.
 */
public final class FdtWriter {
    private FdtWriter() {}

    /** The DTB of {@code tree}. */
    public static byte[] write(DeviceTree tree) {
        Map<String, Integer> stringOffsets = new LinkedHashMap<>();
        ByteArrayOutputStream strings = new ByteArrayOutputStream();
        ByteArrayOutputStream struct = new ByteArrayOutputStream();

        // Iterative pre-order walk: a node's BEGIN, its properties, its children, its END.
        Deque<Object> todo = new ArrayDeque<>();
        todo.push(tree.root());
        while (!todo.isEmpty()) {
            Object item = todo.pop();
            if (item == EndNode.INSTANCE) {
                putInt(struct, FDT_END_NODE);
                continue;
            }
            Node node = (Node) item;
            putInt(struct, FDT_BEGIN_NODE);
            putPadded(struct, nulTerminated(node.name()));
            for (Property property : node.properties()) {
                int nameOffset = stringOffsets.computeIfAbsent(property.name(), name -> {
                    int offset = strings.size();
                    strings.writeBytes(nulTerminated(name));
                    return offset;
                });
                putInt(struct, FDT_PROP);
                putInt(struct, property.length());
                putInt(struct, nameOffset);
                putPadded(struct, property.value());
            }
            todo.push(EndNode.INSTANCE);
            for (Node child : node.children().reversed()) {
                todo.push(child);
            }
        }
        putInt(struct, FDT_END);

        int offMemRsvmap = FDT_V17_SIZE; // already 8-byte aligned
        int rsvmapSize = (tree.reservations().size() + 1) * Fdt.FDT_RESERVE_ENTRY_SIZE;
        int offDtStruct = Math.addExact(offMemRsvmap, rsvmapSize);
        int offDtStrings = Math.addExact(offDtStruct, struct.size());
        int totalSize = Math.addExact(offDtStrings, strings.size());

        ByteBuffer out = ByteBuffer.allocate(totalSize);
        out.putInt(FDT_MAGIC)
                .putInt(totalSize)
                .putInt(offDtStruct)
                .putInt(offDtStrings)
                .putInt(offMemRsvmap)
                .putInt(FDT_VERSION)
                .putInt(FDT_LAST_COMP_VERSION)
                .putInt(tree.bootCpuidPhys())
                .putInt(strings.size())
                .putInt(struct.size());
        for (MemoryReservation reservation : tree.reservations()) {
            out.putLong(reservation.address()).putLong(reservation.size());
        }
        out.putLong(0).putLong(0);
        out.put(struct.toByteArray());
        out.put(strings.toByteArray());
        return out.array();
    }

    private static byte[] nulTerminated(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII); // names are checked to be ASCII
        byte[] terminated = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, terminated, 0, bytes.length);
        return terminated;
    }

    private static void putInt(ByteArrayOutputStream out, int value) {
        out.write(value >>> 24);
        out.write(value >>> 16);
        out.write(value >>> 8);
        out.write(value);
    }

    private static void putPadded(ByteArrayOutputStream out, byte[] bytes) {
        out.writeBytes(bytes);
        int padding = Fdt.align(bytes.length, FDT_TAGSIZE) - bytes.length;
        out.writeBytes(new byte[padding]);
    }

    private enum EndNode {
        INSTANCE
    }
}
