package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.Payload.Capability;
import io.jvfio.vfiouser.testing.ProtocolTestModel;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

class CodecPropertyTest {
    /** A command number, whether the message is a reply, and its payload. */
    record Sample(int command, boolean reply, Payload payload) {}

    @Provide
    Arbitrary<Sample> messages() {
        Arbitrary<Integer> ints = Arbitraries.integers();
        Arbitrary<Long> longs = Arbitraries.longs();
        Arbitrary<Bytes> bytes =
                Arbitraries.bytes().array(byte[].class).ofMaxSize(64).map(Bytes::copyOf);
        Arbitrary<Integer> u16 = Arbitraries.integers().between(0, 0xFFFF);
        Arbitrary<Capabilities> caps = Combinators.combine(
                        Arbitraries.integers().between(0, 1024),
                        Arbitraries.longs().between(1, 64L << 20),
                        Arbitraries.longs().between(1, Integer.MAX_VALUE),
                        Arbitraries.longs().between(1, Long.MAX_VALUE))
                .as(Capabilities::new);
        Arbitrary<Capability> capability = Combinators.combine(u16, u16, bytes).as(Capability::new);
        Arbitrary<Payload.DeviceGetRegionInfo> regionInfo = Combinators.combine(
                        ints, ints, ints, longs, longs, capability.list().ofMaxSize(4))
                .as(Payload.DeviceGetRegionInfo::new)
                .filter(r -> Integer.toUnsignedLong(r.argsz()) <= r.fullSize()
                        || r.capabilities().isEmpty())
                // a whole reply with FLAG_CAPS has a chain: cap_offset 0 is refused as QEMU's client refuses it
                .filter(r -> (r.flags() & RegionInfo.FLAG_CAPS) == 0
                        || !r.capabilities().isEmpty()
                        || Integer.toUnsignedLong(r.argsz()) > r.fullSize());
        Arbitrary<Payload.IoFdEntry> entry =
                Combinators.combine(longs, longs, ints, ints, ints, longs).as(Payload.IoFdEntry::new);
        return Arbitraries.oneOf(
                Combinators.combine(u16, u16, caps)
                        .as((a, b, c) -> new Sample(Command.VERSION, false, new Payload.Version(a, b, c))),
                Combinators.combine(ints, ints, longs, longs, longs)
                        .as((a, b, c, d, e) -> new Sample(Command.DMA_MAP, false, new Payload.DmaMap(a, b, c, d, e))),
                Combinators.combine(ints, ints, longs, longs)
                        .as((a, b, c, d) -> new Sample(Command.DMA_UNMAP, true, new Payload.DmaUnmap(a, b, c, d))),
                Combinators.combine(ints, ints, ints, ints)
                        .as((a, b, c, d) ->
                                new Sample(Command.DEVICE_GET_INFO, true, new Payload.DeviceGetInfo(a, b, c, d))),
                regionInfo.map(r -> new Sample(Command.DEVICE_GET_REGION_INFO, true, r)),
                Combinators.combine(ints, ints, ints, ints)
                        .as((a, b, c, d) -> new Sample(
                                Command.DEVICE_GET_IRQ_INFO, false, new Payload.DeviceGetIrqInfo(a, b, c, d))),
                Combinators.combine(ints, ints, entry.list().ofMinSize(1).ofMaxSize(4))
                        .as((f, i, e) -> new Sample(
                                Command.DEVICE_GET_REGION_IO_FDS, true, Payload.RegionIoFdsReply.of(f, i, e))),
                Combinators.combine(ints, ints, ints, bytes)
                        .as((i, s, a, d) -> new Sample(
                                Command.DEVICE_SET_IRQS,
                                false,
                                Payload.DeviceSetIrqs.of(2 | (a & ~7), i, s, d.length(), d))),
                Combinators.combine(longs, ints, bytes)
                        .as((o, r, d) ->
                                new Sample(Command.REGION_WRITE, false, Payload.RegionAccess.withData(o, r, d))),
                Combinators.combine(longs, ints, ints)
                        .as((o, r, c) -> new Sample(Command.REGION_READ, false, Payload.RegionAccess.of(o, r, c))),
                Combinators.combine(longs, bytes)
                        .as((a, d) -> new Sample(Command.DMA_READ, true, new Payload.DmaAccess(a, d.length(), d))),
                Combinators.combine(ints, ints, bytes)
                        .as((a, f, d) -> new Sample(Command.DEVICE_FEATURE, true, new Payload.DeviceFeature(a, f, d))));
    }

    @Property(tries = 500)
    void randomMessagesRoundTrip(@ForAll("messages") Sample sample) throws Exception {
        int flags = sample.reply() ? Header.TYPE_REPLY : Header.TYPE_COMMAND;
        byte[] bytes = Codec.encode(7, sample.command(), flags, 0, sample.payload());
        Codec.Message message = Codec.decodeMessage(bytes);
        assertThat(message.payload()).isEqualTo(sample.payload());
    }

    @Provide
    Arbitrary<Tuple.Tuple2<Sample, List<Tuple.Tuple2<Integer, Byte>>>> mutations() {
        return Combinators.combine(
                        messages(),
                        Combinators.combine(Arbitraries.integers().between(0, 10_000), Arbitraries.bytes())
                                .as(Tuple::of)
                                .list()
                                .ofMinSize(1)
                                .ofMaxSize(6))
                .as(Tuple::of);
    }

    @Property(tries = 2000)
    void mutatedBytesNeverThrowAnythingButTheTypedError(
            @ForAll("mutations") Tuple.Tuple2<Sample, List<Tuple.Tuple2<Integer, Byte>>> mutation,
            @ForAll boolean truncate) {
        Sample sample = mutation.get1();
        byte[] bytes = Codec.encode(7, sample.command(), sample.reply() ? 1 : 0, 0, sample.payload());
        for (Tuple.Tuple2<Integer, Byte> change : mutation.get2()) {
            bytes[change.get1() % bytes.length] = change.get2();
        }
        if (truncate) {
            bytes = Arrays.copyOf(bytes, mutation.get2().getFirst().get1() % bytes.length);
        }
        try {
            Codec.decodeMessage(bytes);
        } catch (ProtocolException expected) {
            // the one allowed outcome besides success
        }
        byte[] identity = PlatformExtension.encode(ProtocolTestModel.identity());
        for (Tuple.Tuple2<Integer, Byte> change : mutation.get2()) {
            identity[change.get1() % identity.length] = change.get2();
        }
        try {
            PlatformExtension.decode(identity);
        } catch (ProtocolException expected) {
            // ditto
        }
        try {
            Codec.sparseAreas(new Capability(1, 1, Bytes.copyOf(bytes)));
        } catch (ProtocolException expected) {
            // ditto
        }
    }

    @Property(tries = 200)
    void sparseCapabilityRoundTrips(@ForAll("areas") List<SparseArea> areas) throws Exception {
        assertThat(Codec.sparseAreas(Codec.sparseMmapCapability(areas))).isEqualTo(areas);
    }

    @Provide
    Arbitrary<List<SparseArea>> areas() {
        return Combinators.combine(
                        Arbitraries.longs().between(0, Long.MAX_VALUE / 2),
                        Arbitraries.longs().between(0, Long.MAX_VALUE / 2))
                .as(SparseArea::new)
                .list()
                .ofMaxSize(8);
    }
}
