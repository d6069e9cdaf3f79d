package io.jvfio.platform.devicetree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Names, duplicates and phandles of the model. */
class NodeTest {
    @Test
    void nodeNamesWithDtcCharactersAndOneUnitAddressAreAccepted() {
        Node node = Node.builder("ethernet,x_1.2+3-4@fff51000").build();

        assertThat(node.baseName()).isEqualTo("ethernet,x_1.2+3-4");
        assertThat(node.unitAddress()).contains("fff51000");
        assertThat(Node.builder("cpus").build().unitAddress()).isEmpty();
    }

    @Test
    void nodeNameWithForbiddenCharacterIsRefusedNamingIt() {
        assertThatThrownBy(() -> Node.builder("test device"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("node test device: node name \"test device\": character ' ' is not allowed "
                        + "(allowed: a-z A-Z 0-9 , . _ + -, and one '@')");
        assertThatThrownBy(() -> Node.builder("a/b")).hasMessageContaining("character '/' is not allowed");
        assertThatThrownBy(() -> Node.builder("a#b")).hasMessageContaining("character '#' is not allowed");
        assertThatThrownBy(() -> Node.builder("a\u0001")).hasMessageContaining("character U+0001 is not allowed");
    }

    @Test
    void malformedUnitAddressesAreRefused() {
        assertThatThrownBy(() -> Node.builder("dev@")).hasMessageContaining("empty unit address after '@'");
        assertThatThrownBy(() -> Node.builder("@10")).hasMessageContaining("empty before '@'");
        assertThatThrownBy(() -> Node.builder("dev@1@2")).hasMessageContaining("more than one '@'");
    }

    @Test
    void nodeNameLongerThan31IsRefusedButUnitAddressMayBeLong() {
        String base31 = "a".repeat(31);

        assertThat(Node.builder(base31 + "@" + "0".repeat(40)).build().baseName())
                .hasSize(31);
        assertThatThrownBy(() -> Node.builder(base31 + "b")).hasMessageContaining("is 32 characters, more than 31");
    }

    @Test
    void propertyNamesFollowDtcCharactersWithoutTheLengthLimit() {
        assertThat(Property.empty("#address-cells?*,._+").name()).isEqualTo("#address-cells?*,._+");
        assertThat(Property.empty("snps,dis-u2-freeclk-exists-quirk").name()).hasSize(32);
        assertThatThrownBy(() -> Property.empty("bad name"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("property name \"bad name\": character ' ' is not allowed");
        assertThatThrownBy(() -> Property.empty("a@b")).hasMessageContaining("character '@' is not allowed");
        assertThatThrownBy(() -> Property.empty("")).hasMessage("property name is empty");
    }

    @Test
    void duplicatePropertyIsRefusedNamingThePathAndProperty() {
        Node.Builder bus = Node.builder("").childBuilder("platform@d0000000");
        Node.Builder device = bus.childBuilder("test-device@d0000000").property(Property.u32("reg", 1));

        assertThatThrownBy(() -> device.property(Property.u32("reg", 2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("node /platform@d0000000/test-device@d0000000: duplicate property \"reg\"");
    }

    @Test
    void duplicateChildIsRefusedNamingTheParentAndChild() {
        Node.Builder root = Node.builder("").child(Node.builder("a@1").build());

        assertThatThrownBy(() -> root.child(Node.builder("a@1").build()))
                .hasMessage("node /: duplicate child node \"a@1\"");
        assertThatThrownBy(() -> root.child("a@1", b -> {})).hasMessage("node /: duplicate child node \"a@1\"");
    }

    @Test
    void nestedBuildersNameTheirFullPathInErrors() {
        assertThatThrownBy(() -> Node.builder("")
                        .child(
                                "bus",
                                bus -> bus.child(
                                        "dev",
                                        dev -> dev.property(Property.empty("x")).property(Property.empty("x")))))
                .hasMessage("node /bus/dev: duplicate property \"x\"");
    }

    @Test
    void canonicalConstructorAlsoRefusesDuplicates() {
        assertThatThrownBy(() -> new Node("dev", List.of(Property.empty("x"), Property.u32("x", 1)), List.of()))
                .hasMessage("node dev: duplicate property \"x\"");
        assertThatThrownBy(() -> new Node(
                        "",
                        List.of(),
                        List.of(new Node("c", List.of(), List.of()), new Node("c", List.of(), List.of()))))
                .hasMessage("node /: duplicate child node \"c\"");
        assertThatThrownBy(() -> new Node("", List.of(), List.of(new Node("", List.of(), List.of()))))
                .hasMessage("node /: a child node has an empty name");
    }

    @Test
    void replacePropertyPatchesInPlace() {
        Node overlay = Node.builder("dev")
                .property(Property.u32("reg", 1))
                .property(Property.empty("x"))
                .build();

        Node patched =
                overlay.toBuilder().replaceProperty(Property.u32("reg", 2)).build();

        assertThat(patched.properties()).containsExactly(Property.u32("reg", 2), Property.empty("x"));
    }

    @Test
    void reservedAndMalformedPhandlesAreRefused() {
        assertThatThrownBy(() -> Node.builder("a").phandle(0)).hasMessage("node a: phandle 0x0 is reserved");
        assertThatThrownBy(() -> Node.builder("a").phandle(-1)).hasMessage("node a: phandle 0xffffffff is reserved");
        assertThatThrownBy(() -> Node.builder("a").property(Property.u64("phandle", 1)))
                .hasMessage("node a: phandle is 8 bytes, not one cell");
    }

    @Test
    void duplicatePhandleInATreeIsRefusedNamingBothNodes() {
        Node root = Node.builder("")
                .child("a", a -> a.phandle(5))
                .child("b", b -> b.child("c", c -> c.phandle(5)))
                .build();

        assertThatThrownBy(() -> DeviceTree.of(root)).hasMessage("node /b/c: phandle 0x5 is already the phandle of /a");
    }

    @Test
    void treeFindsNodesByPathAndPhandle() {
        DeviceTree tree = DeviceTree.of(Node.builder("")
                .child("b", b -> b.child("c@1", c -> c.phandle(9)))
                .build());

        assertThat(tree.node("/")).contains(tree.root());
        assertThat(tree.node("/b/c@1").orElseThrow().phandle()).hasValue(9);
        assertThat(tree.node("/b/c@2")).isEmpty();
        assertThat(tree.nodeByPhandle(9).orElseThrow().name()).isEqualTo("c@1");
        assertThat(tree.nodeByPhandle(8)).isEmpty();
    }

    @Test
    void rootMustHaveAnEmptyName() {
        assertThatThrownBy(() -> DeviceTree.of(Node.builder("root").build()))
                .hasMessage("the root node's name must be empty, not \"root\"");
    }
}
