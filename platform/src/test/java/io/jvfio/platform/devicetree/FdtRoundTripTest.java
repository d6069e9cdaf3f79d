package io.jvfio.platform.devicetree;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** model -> DTB -> model gives the same model, and the DTB itself is laid out as the format says. */
class FdtRoundTripTest {
    static DeviceTree everyPropertyKind() {
        Node child = Node.builder("child@1")
                .property(Property.empty("empty"))
                .property(Property.u32("u32", 0xdeadbeef))
                .property(Property.u64("u64", 0x0123_4567_89ab_cdefL))
                .property(Property.cells("cells", 1, 2, 3, -1))
                .property(Property.string("string", "hello"))
                .property(Property.string("empty-string", ""))
                .property(Property.strings("strings", "a", "bc", "", "def"))
                .property(Property.bytes("bytes", new byte[] {1, 2, 3}))
                .property(Property.bytes("bytes-aligned", new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
                .phandle(7)
                .child(Node.builder("grandchild")
                        .property(Property.u32("u32", 1))
                        .build())
                .build();
        Node root = Node.builder("")
                .property(Property.u32("#address-cells", 2))
                .property(Property.string("compatible", "jvfio,machine"))
                .child(child)
                .child(Node.builder("leaf,with+chars_.-@0,1").build())
                .build();
        return new DeviceTree(
                root,
                List.of(new MemoryReservation(0x1000, 0x2000), new MemoryReservation(0xffff_0000_0000_0000L, 0x1000)),
                3);
    }

    @Test
    void treeWithEveryPropertyKindRoundTrips() throws DtbFormatException {
        DeviceTree tree = everyPropertyKind();

        DeviceTree back = FdtReader.read(FdtWriter.write(tree));

        assertThat(back).isEqualTo(tree);
        assertThat(back.node("/child@1")
                        .orElseThrow()
                        .property("strings")
                        .orElseThrow()
                        .asStrings())
                .containsExactly("a", "bc", "", "def");
        assertThat(back.node("/child@1/grandchild")).isPresent();
        assertThat(back.nodeByPhandle(7).orElseThrow().name()).isEqualTo("child@1");
    }

    @Test
    void platformTreeRoundTrips() throws DtbFormatException {
        DeviceTree tree = DtcInteropTest.twoTestDevicesAndOneWithExtras();

        assertThat(FdtReader.read(FdtWriter.write(tree))).isEqualTo(tree);
    }

    @Test
    void writingIsDeterministic() {
        assertThat(FdtWriter.write(everyPropertyKind())).isEqualTo(FdtWriter.write(everyPropertyKind()));
    }

    @Test
    void smallestTreeHasTheExactBytesDtcWouldWrite() {
        DeviceTree tree = DeviceTree.of(Node.builder("")
                .property(Property.u32("a", 1))
                .child(Node.builder("n@1")
                        .property(Property.u32("a", 2))
                        .property(Property.empty("bc"))
                        .build())
                .build());

        byte[] dtb = FdtWriter.write(tree);

        int[] expected = {
            // header: magic, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap, version, last_comp,
            // boot_cpuid_phys, size_dt_strings, size_dt_struct
            0xd00dfeed,
            0x85,
            0x38,
            0x80,
            0x28,
            17,
            16,
            0,
            5,
            0x48,
            0,
            0,
            0,
            0, // reservation map: just the 0/0 end entry
            1,
            0, // BEGIN_NODE ""
            3,
            4,
            0,
            1, // PROP len 4, name "a" at 0, <1>
            1,
            0x6e403100, // BEGIN_NODE "n@1\0"
            3,
            4,
            0,
            2, // PROP "a" <2> (the name is shared)
            3,
            0,
            2, // PROP "bc", empty, name at 2
            2,
            2,
            9
        }; // END_NODE, END_NODE, END
        ByteBuffer buffer = ByteBuffer.allocate(expected.length * 4 + 5);
        for (int word : expected) {
            buffer.putInt(word);
        }
        buffer.put(new byte[] {'a', 0, 'b', 'c', 0});
        assertThat(dtb).isEqualTo(buffer.array());
    }

    @net.jqwik.api.Property(tries = 300)
    void randomTreesRoundTrip(@ForAll("trees") DeviceTree tree) throws DtbFormatException {
        assertThat(FdtReader.read(FdtWriter.write(tree))).isEqualTo(tree);
    }

    @Provide
    Arbitrary<DeviceTree> trees() {
        Arbitrary<List<MemoryReservation>> reservations = Combinators.combine(
                        Arbitraries.longs(), Arbitraries.longs().between(1, 1L << 40))
                .as(MemoryReservation::new)
                .ignoreException(IllegalArgumentException.class)
                .list()
                .ofMaxSize(3);
        return Combinators.combine(nodes(3).map(n -> rename(n, "")), reservations.injectNull(0), Arbitraries.integers())
                .as((root, res, cpu) -> new DeviceTree(root, res == null ? List.of() : res, cpu))
                .ignoreException(IllegalArgumentException.class);
    }

    private static Arbitrary<Node> nodes(int depth) {
        Arbitrary<String> nodeName = Arbitraries.strings()
                .withChars("abcxyz019,._+-")
                .ofMinLength(1)
                .ofMaxLength(12)
                .flatMap(base -> Arbitraries.strings()
                        .withChars("0123456789abcdef,")
                        .ofMaxLength(9)
                        .map(unit -> unit.isEmpty() ? base : base + "@" + unit));
        Arbitrary<String> propertyName =
                Arbitraries.strings().withChars("abz09,._+*#?-").ofMinLength(1).ofMaxLength(40);
        Arbitrary<byte[]> value = Arbitraries.bytes().array(byte[].class).ofMaxSize(21);
        Arbitrary<List<Property>> properties = Combinators.combine(propertyName, value)
                .as(Property::bytes)
                .list()
                .ofMaxSize(5)
                .uniqueElements(Property::name);
        Arbitrary<List<Node>> children = depth == 0
                ? Arbitraries.just(List.of())
                : Arbitraries.lazy(() -> nodes(depth - 1)).list().ofMaxSize(3).uniqueElements(Node::name);
        return Combinators.combine(nodeName, properties, children).as(Node::new);
    }

    private static Node rename(Node node, String name) {
        return new Node(name, node.properties(), node.children());
    }
}
