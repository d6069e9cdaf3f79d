package io.jvfio.platform.devicetree;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One device-tree node: its name ({@code base@unit-address}, or empty for the root), its properties and
 * its children, each in order. Immutable; property names and child names are unique within a node.
 * Build one with {@link #builder(String)}; a builder's errors name the node's path, for example
 * {@code node /platform@d0000000/test-device@d0000000: duplicate property "reg"}.
 */
public record Node(String name, List<Property> properties, List<Node> children) {
    /** The property that gives a node its phandle. */
    public static final String PHANDLE = "phandle";

    public Node {
        if (!name.isEmpty()) {
            Names.checkNodeName(name);
        }
        properties = List.copyOf(properties);
        children = List.copyOf(children);
        String label = name.isEmpty() ? "/" : name;
        Set<String> seen = new HashSet<>();
        for (Property property : properties) {
            if (!seen.add(property.name())) {
                throw duplicateProperty(label, property.name());
            }
        }
        seen.clear();
        for (Node child : children) {
            if (child.name.isEmpty()) {
                throw new IllegalArgumentException("node " + label + ": a child node has an empty name");
            }
            if (!seen.add(child.name)) {
                throw duplicateChild(label, child.name);
            }
        }
        Optional<Property> phandle =
                properties.stream().filter(p -> p.name().equals(PHANDLE)).findFirst();
        if (phandle.isPresent()) {
            checkPhandle(label, phandle.get());
        }
    }

    /** A builder for a node named {@code name} ({@code ""} for the root). */
    public static Builder builder(String name) {
        return new Builder(name, name.isEmpty() ? "/" : name);
    }

    /** A builder holding this node's name, properties and children, to derive a changed node. */
    public Builder toBuilder() {
        Builder builder = builder(name);
        properties.forEach(builder::property);
        children.forEach(builder::child);
        return builder;
    }

    /** The name before {@code @}. */
    public String baseName() {
        int at = name.indexOf('@');
        return at < 0 ? name : name.substring(0, at);
    }

    /** The unit address after {@code @}, if any. */
    public Optional<String> unitAddress() {
        int at = name.indexOf('@');
        return at < 0 ? Optional.empty() : Optional.of(name.substring(at + 1));
    }

    public Optional<Property> property(String propertyName) {
        for (Property property : properties) {
            if (property.name().equals(propertyName)) {
                return Optional.of(property);
            }
        }
        return Optional.empty();
    }

    /** The child with this full name ({@code base@unit-address}). */
    public Optional<Node> child(String childName) {
        for (Node child : children) {
            if (child.name.equals(childName)) {
                return Optional.of(child);
            }
        }
        return Optional.empty();
    }

    /** The node's {@code phandle} property, if it has one. */
    public OptionalInt phandle() {
        return property(PHANDLE).map(p -> OptionalInt.of(p.asU32())).orElse(OptionalInt.empty());
    }

    private static void checkPhandle(String path, Property phandle) {
        if (phandle.length() != 4) {
            throw new IllegalArgumentException(
                    "node " + path + ": phandle is " + phandle.length() + " bytes, not one cell");
        }
        int value = phandle.asU32();
        if (value == 0 || value == -1) {
            throw new IllegalArgumentException(
                    "node " + path + ": phandle 0x" + Integer.toHexString(value) + " is reserved");
        }
    }

    private static IllegalArgumentException duplicateProperty(String path, String property) {
        return new IllegalArgumentException("node " + path + ": duplicate property \"" + property + "\"");
    }

    private static IllegalArgumentException duplicateChild(String path, String child) {
        return new IllegalArgumentException("node " + path + ": duplicate child node \"" + child + "\"");
    }

    static String childPath(String parentPath, String childName) {
        return parentPath.equals("/") ? "/" + childName : parentPath + "/" + childName;
    }

    /**
     * Collects a node's properties and children, refusing duplicates at once with the node's path in the
     * message. Builders for children made with {@link #child(String, Consumer)} know their full path.
     */
    public static final class Builder {
        private final String name;
        private final String path;
        private final Map<String, Property> properties = new LinkedHashMap<>();
        private final Map<String, Node> children = new LinkedHashMap<>();

        Builder(String name, String path) {
            if (!name.isEmpty()) {
                try {
                    Names.checkNodeName(name);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("node " + Names.printable(path) + ": " + e.getMessage(), e);
                }
            }
            this.name = name;
            this.path = path;
        }

        /** The path this builder's errors name. */
        public String path() {
            return path;
        }

        /** Adds a property; a second property of the same name is refused. */
        public Builder property(Property property) {
            if (properties.containsKey(property.name())) {
                throw duplicateProperty(path, property.name());
            }
            if (property.name().equals(PHANDLE)) {
                checkPhandle(path, property);
            }
            properties.put(property.name(), property);
            return this;
        }

        /** Adds the properties in order; see {@link #property(Property)}. */
        public Builder properties(List<Property> list) {
            list.forEach(this::property);
            return this;
        }

        /** Sets a property, replacing one of the same name in its place (as an overlay is patched). */
        public Builder replaceProperty(Property property) {
            if (property.name().equals(PHANDLE)) {
                checkPhandle(path, property);
            }
            properties.put(property.name(), property);
            return this;
        }

        /** Removes a property if present. */
        public Builder removeProperty(String propertyName) {
            properties.remove(propertyName);
            return this;
        }

        /** Sets {@code phandle = <value>}; refused if the node already has one. */
        public Builder phandle(int value) {
            return property(Property.u32(PHANDLE, value));
        }

        /** Adds a built child; a second child of the same full name is refused. */
        public Builder child(Node child) {
            if (child.name.isEmpty()) {
                throw new IllegalArgumentException("node " + path + ": a child node has an empty name");
            }
            if (children.putIfAbsent(child.name, child) != null) {
                throw duplicateChild(path, child.name);
            }
            return this;
        }

        /** Builds a child named {@code childName} with {@code body} and adds it. */
        public Builder child(String childName, Consumer<Builder> body) {
            if (children.containsKey(childName)) {
                throw duplicateChild(path, childName);
            }
            Builder child = childBuilder(childName);
            body.accept(child);
            return child(child.build());
        }

        /** A builder for a child of this node, whose errors name the child's full path; add it with {@link #child(Node)}. */
        public Builder childBuilder(String childName) {
            if (childName.isEmpty()) {
                throw new IllegalArgumentException("node " + path + ": a child node has an empty name");
            }
            return new Builder(childName, childPath(path, childName));
        }

        public boolean hasProperty(String propertyName) {
            return properties.containsKey(propertyName);
        }

        public boolean hasChild(String childName) {
            return children.containsKey(childName);
        }

        public Node build() {
            return new Node(name, new ArrayList<>(properties.values()), new ArrayList<>(children.values()));
        }
    }
}
