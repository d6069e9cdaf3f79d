package io.jvfio.platform.devicetree;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A whole device tree as a DTB carries it: the root node (whose name is empty), the memory-reservation
 * map and the boot CPU's physical id. Immutable; phandles are unique across the tree.
 */
public record DeviceTree(Node root, List<MemoryReservation> reservations, int bootCpuidPhys) {
    public DeviceTree {
        if (!root.name().isEmpty()) {
            throw new IllegalArgumentException("the root node's name must be empty, not \"" + root.name() + "\"");
        }
        reservations = List.copyOf(reservations);
        checkPhandlesUnique(root);
    }

    /** A tree with no memory reservations and boot CPU 0. */
    public static DeviceTree of(Node root) {
        return new DeviceTree(root, List.of(), 0);
    }

    /** The node at an absolute path such as {@code /platform@d0000000/test-device@d0000000}; {@code /} is the root. */
    public Optional<Node> node(String path) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("not an absolute path: " + path);
        }
        Node node = root;
        for (String part : path.substring(1).split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            Optional<Node> child = node.child(part);
            if (child.isEmpty()) {
                return Optional.empty();
            }
            node = child.get();
        }
        return Optional.of(node);
    }

    /** The node whose {@code phandle} is {@code phandle}. */
    public Optional<Node> nodeByPhandle(int phandle) {
        Deque<Node> todo = new ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            Node node = todo.pop();
            if (node.phandle().equals(OptionalInt.of(phandle))) {
                return Optional.of(node);
            }
            node.children().reversed().forEach(todo::push);
        }
        return Optional.empty();
    }

    private static void checkPhandlesUnique(Node root) {
        Map<Integer, String> owners = new HashMap<>();
        Deque<Map.Entry<String, Node>> todo = new ArrayDeque<>();
        todo.push(Map.entry("/", root));
        while (!todo.isEmpty()) {
            var entry = todo.pop();
            String path = entry.getKey();
            Node node = entry.getValue();
            var phandle = node.phandle();
            if (phandle.isPresent()) {
                String previous = owners.putIfAbsent(phandle.getAsInt(), path);
                if (previous != null) {
                    throw new IllegalArgumentException("node " + path + ": phandle 0x"
                            + Integer.toHexString(phandle.getAsInt()) + " is already the phandle of " + previous);
                }
            }
            for (Node child : node.children().reversed()) {
                todo.push(Map.entry(Node.childPath(path, child.name()), child));
            }
        }
    }
}
