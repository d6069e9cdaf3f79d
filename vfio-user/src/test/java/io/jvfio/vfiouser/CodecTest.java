package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.Errno;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.Payload.Capability;
import io.jvfio.vfiouser.Payload.IoFdEntry;
import io.jvfio.vfiouser.testing.ProtocolTestModel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CodecTest {
    private static final HexFormat HEX = HexFormat.of();

    static Stream<Arguments> everyMessage() {
        Capabilities caps = new Capabilities(8, 1 << 20, 100, 4096);
        Bytes oneToFour = Bytes.copyOf(new byte[] {1, 2, 3, 4});
        return Stream.of(
                Arguments.of(Command.VERSION, false, new Payload.Version(0, 2, caps)),
                Arguments.of(Command.VERSION, true, new Payload.Version(0, 1, Capabilities.defaults())),
                Arguments.of(Command.DMA_MAP, false, new Payload.DmaMap(32, 3, 0x1000, 0x100000, 0x4000)),
                Arguments.of(Command.DMA_MAP, true, Payload.Empty.INSTANCE),
                Arguments.of(Command.DMA_UNMAP, false, new Payload.DmaUnmap(24, 0, 0x100000, 0x4000)),
                Arguments.of(Command.DMA_UNMAP, true, new Payload.DmaUnmap(24, 0, 0x100000, 0x4000)),
                Arguments.of(Command.DEVICE_GET_INFO, false, new Payload.DeviceGetInfo(16, 0, 0, 0)),
                Arguments.of(Command.DEVICE_GET_INFO, true, new Payload.DeviceGetInfo(16, 5, 3, 2)),
                Arguments.of(Command.DEVICE_GET_REGION_INFO, false, Payload.DeviceGetRegionInfo.request(1024, 2)),
                Arguments.of(
                        Command.DEVICE_GET_REGION_INFO,
                        true,
                        new Payload.DeviceGetRegionInfo(
                                32 + 24 + 12,
                                0xF,
                                2,
                                0x3000,
                                0,
                                List.of(
                                        Codec.sparseMmapCapability(List.of(new SparseArea(0x1000, 0x1000))),
                                        new Capability(2, 1, oneToFour)))),
                Arguments.of(
                        Command.DEVICE_GET_REGION_INFO,
                        true,
                        new Payload.DeviceGetRegionInfo(64, 0xF, 1, 0x100, 0x10000, List.of())),
                Arguments.of(Command.DEVICE_GET_REGION_IO_FDS, false, new Payload.RegionIoFdsRequest(256, 0, 1, 0)),
                Arguments.of(
                        Command.DEVICE_GET_REGION_IO_FDS,
                        true,
                        Payload.RegionIoFdsReply.of(
                                0,
                                1,
                                List.of(
                                        new IoFdEntry(0x10, 4, 0, IoFdEntry.TYPE_IOEVENTFD, 1, 0x55),
                                        new IoFdEntry(0x20, 8, 1, IoFdEntry.TYPE_IOREGIONFD, 0, 0x66)))),
                Arguments.of(
                        Command.DEVICE_GET_REGION_IO_FDS,
                        true,
                        new Payload.RegionIoFdsReply(16 + 48, 0, 1, 1, List.of(new IoFdEntry(0x10, 4, 0, 0, 0, 7)))),
                Arguments.of(Command.DEVICE_GET_IRQ_INFO, false, new Payload.DeviceGetIrqInfo(16, 0, 1, 0)),
                Arguments.of(Command.DEVICE_GET_IRQ_INFO, true, new Payload.DeviceGetIrqInfo(16, 7, 1, 4)),
                Arguments.of(
                        Command.DEVICE_SET_IRQS,
                        false,
                        Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | (1 << 5), 0, 0, 2, Bytes.EMPTY)),
                Arguments.of(
                        Command.DEVICE_SET_IRQS,
                        false,
                        Payload.DeviceSetIrqs.of(
                                IrqSet.DATA_BOOL | (1 << 4), 1, 1, 3, Bytes.copyOf(new byte[] {1, 0, 1}))),
                Arguments.of(Command.DEVICE_SET_IRQS, true, Payload.Empty.INSTANCE),
                Arguments.of(Command.REGION_READ, false, Payload.RegionAccess.of(0x10, 0, 4)),
                Arguments.of(Command.REGION_READ, true, Payload.RegionAccess.withData(0x10, 0, oneToFour)),
                Arguments.of(
                        Command.REGION_WRITE,
                        false,
                        Payload.RegionAccess.withData(0x18, 2, Bytes.copyOf(new byte[] {9, 8}))),
                Arguments.of(Command.REGION_WRITE, true, Payload.RegionAccess.of(0x18, 2, 2)),
                Arguments.of(Command.DMA_READ, false, Payload.DmaAccess.of(0x100000, 3)),
                Arguments.of(
                        Command.DMA_READ, true, new Payload.DmaAccess(0x100000, 3, Bytes.copyOf(new byte[] {5, 6, 7}))),
                Arguments.of(
                        Command.DMA_WRITE, false, new Payload.DmaAccess(0x100000, 2, Bytes.copyOf(new byte[] {5, 6}))),
                Arguments.of(Command.DMA_WRITE, true, Payload.DmaAccess.of(0x100000, 2)),
                Arguments.of(Command.DEVICE_RESET, false, Payload.Empty.INSTANCE),
                Arguments.of(Command.DEVICE_RESET, true, Payload.Empty.INSTANCE),
                Arguments.of(
                        Command.DEVICE_FEATURE,
                        false,
                        new Payload.DeviceFeature(
                                4096, PlatformExtension.FEATURE_DT_IDENTITY | Payload.DeviceFeature.GET, Bytes.EMPTY)),
                Arguments.of(
                        Command.DEVICE_FEATURE,
                        true,
                        new Payload.DeviceFeature(
                                12, PlatformExtension.FEATURE_DT_IDENTITY | Payload.DeviceFeature.GET, oneToFour)));
    }

    @ParameterizedTest(name = "{0} reply={1}")
    @MethodSource("everyMessage")
    void everyMessageRoundTrips(int command, boolean reply, Payload payload) throws Exception {
        byte[] bytes = Codec.encode(0x1234, command, reply ? Header.TYPE_REPLY : Header.TYPE_COMMAND, 0, payload);
        Codec.Message message = Codec.decodeMessage(bytes);
        assertThat(message.header())
                .isEqualTo(
                        new Header(0x1234, command, bytes.length, reply ? Header.TYPE_REPLY : Header.TYPE_COMMAND, 0));
        assertThat(message.payload()).isEqualTo(payload);
        assertThat(Codec.encode(0x1234, command, message.header().flags(), 0, message.payload()))
                .isEqualTo(bytes);
    }

    @Test
    void regionReadRequestMatchesTheSpecificationBytes() throws Exception {
        byte[] bytes =
                Codec.encode(0x0102, Command.REGION_READ, Header.TYPE_COMMAND, 0, Payload.RegionAccess.of(0x10, 2, 4));
        assertThat(HEX.formatHex(bytes))
                .isEqualTo("0201" + "0900" + "20000000" + "00000000" + "00000000" // header: id, command 9, size 32
                        + "1000000000000000" + "02000000" + "04000000"); // offset 0x10, region 2, count 4
    }

    @Test
    void errorReplyIsAHeaderAloneWithErrorFlagAndErrno() throws Exception {
        byte[] bytes = Codec.encode(
                7, Command.DEVICE_RESET, Header.TYPE_REPLY | Header.ERROR, Errno.EINVAL, Payload.Empty.INSTANCE);
        assertThat(HEX.formatHex(bytes)).isEqualTo("0700" + "0d00" + "10000000" + "21000000" + "16000000");
        Codec.Message message = Codec.decodeMessage(bytes);
        assertThat(message.header().isError()).isTrue();
        assertThat(message.header().error()).isEqualTo(Errno.EINVAL);
    }

    @Test
    void deviceGetInfoReplyMatchesTheSpecificationBytes() throws Exception {
        byte[] bytes = Codec.encode(
                1, Command.DEVICE_GET_INFO, Header.TYPE_REPLY, 0, new Payload.DeviceGetInfo(16, 0x5, 3, 2));
        assertThat(HEX.formatHex(bytes))
                .isEqualTo("0100" + "0400" + "20000000" + "01000000" + "00000000" + "10000000" + "05000000" + "03000000"
                        + "02000000");
    }

    @Test
    void versionCarriesNulTerminatedJsonAndParsesLibvfioUserStyle() throws Exception {
        String json =
                "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576,\"migration\":{\"pgsize\":4096}}}";
        byte[] body = (json + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[16 + 4 + body.length];
        ByteBuffer out = ByteBuffer.wrap(bytes).order(Codec.ORDER);
        Header.command(0x0bad, Command.VERSION, bytes.length).encodeTo(out);
        out.putShort((short) 0).putShort((short) 2).put(body);
        Payload.Version version = (Payload.Version) Codec.decodeMessage(bytes).payload();
        assertThat(version.minor()).isEqualTo(2);
        assertThat(version.capabilities().maxMsgFds()).isEqualTo(8);
        assertThat(version.capabilities().maxDmaMaps()).isEqualTo(Capabilities.DEFAULT_MAX_DMA_MAPS);
        byte[] ours = Codec.encode(1, Command.VERSION, 0, 0, new Payload.Version(0, 2, Capabilities.defaults()));
        assertThat(ours[ours.length - 1]).isZero();
    }

    @Test
    void versionWithoutJsonTakesTheSpecificationDefaults() throws Exception {
        byte[] bytes = HEX.parseHex("0100" + "0100" + "14000000" + "00000000" + "00000000" + "0000" + "0000");
        Payload.Version version = (Payload.Version) Codec.decodeMessage(bytes).payload();
        assertThat(version.capabilities()).isEqualTo(Capabilities.defaults());
        assertThat(version.capabilities().maxMsgFds()).isEqualTo(1);
        assertThat(version.capabilities().maxDataXferSize()).isEqualTo(1 << 20);
    }

    @Test
    void badVersionJsonIsATypedError() {
        for (String json : List.of(
                "{",
                "[]",
                "{\"capabilities\":3}",
                "{\"capabilities\":{\"max_msg_fds\":\"8\"}}",
                "{\"capabilities\":{\"max_msg_fds\":1.5}}",
                "{\"capabilities\":{\"max_data_xfer_size\":0}}",
                "{} {}",
                "{'a':1}",
                "{\"capabilities\":{\"max_msg_fds\":-1}}")) {
            assertThatThrownBy(() -> Capabilities.parse(json)).as(json).isInstanceOf(ProtocolException.class);
        }
    }

    @Test
    void wholeNumbersAreTakenInEveryJsonSpellingAndNothingElse() throws Exception {
        for (String pgsizes : List.of("4096", "4096.0", "4.096e3", "4096E0")) {
            String json = "{\"capabilities\":{\"pgsizes\":" + pgsizes + "}}";
            assertThat(Capabilities.parse(json).values().pgsizes()).as(json).isEqualTo(4096);
        }
        assertThat(Capabilities.parse("{\"capabilities\":{\"pgsizes\":9223372036854775807}}")
                        .values()
                        .pgsizes())
                .isEqualTo(Long.MAX_VALUE);
        for (String pgsizes : List.of("9223372036854775808", "18446744073709547520", "4096.5", "-4096", "1e400")) {
            String json = "{\"capabilities\":{\"pgsizes\":" + pgsizes + "}}";
            assertThatThrownBy(() -> Capabilities.parse(json)).as(json).isInstanceOf(ProtocolException.class);
        }
    }

    @Test
    void libvfioUserIoFdsStrideOf48IsDerivedFromArgsz() throws Exception {
        byte[] bytes = Codec.encode(
                3,
                Command.DEVICE_GET_REGION_IO_FDS,
                Header.TYPE_REPLY,
                0,
                new Payload.RegionIoFdsReply(
                        16 + 2 * 48,
                        0,
                        0,
                        2,
                        List.of(new IoFdEntry(0, 4, 0, 0, 0, 1), new IoFdEntry(8, 4, 0, 0, 0, 2))));
        assertThat(bytes.length).isEqualTo(16 + 16 + 96);
        Payload.RegionIoFdsReply reply =
                (Payload.RegionIoFdsReply) Codec.decodeMessage(bytes).payload();
        assertThat(reply.stride()).isEqualTo(48);
        assertThat(reply.entries().get(1).offset()).isEqualTo(8);
        assertThat(reply.entries().get(1).data()).isEqualTo(2);
    }

    @Test
    void capabilityChainThatPointsBackwardsIsRefused() {
        byte[] bytes = Codec.encode(
                1,
                Command.DEVICE_GET_REGION_INFO,
                Header.TYPE_REPLY,
                0,
                new Payload.DeviceGetRegionInfo(
                        48, 8, 0, 0x1000, 0, List.of(new Capability(2, 1, Bytes.copyOf(new byte[8])))));
        ByteBuffer.wrap(bytes).order(Codec.ORDER).putInt(16 + 32 + 4, 32);
        assertThatThrownBy(() -> Codec.decodeMessage(bytes))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("next offset 32");
    }

    @Test
    void regionReadReplyWhoseCountDisagreesWithItsDataIsRefused() {
        byte[] bytes = Codec.encode(
                1,
                Command.REGION_READ,
                Header.TYPE_REPLY,
                0,
                Payload.RegionAccess.withData(0, 0, Bytes.copyOf(new byte[4])));
        ByteBuffer.wrap(bytes).order(Codec.ORDER).putInt(16 + 12, 8);
        assertThatThrownBy(() -> Codec.decodeMessage(bytes))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("count 8 but 4 data bytes");
    }

    @Test
    void unknownCommandIsEinvalAsLibvfioUserAnswers() {
        byte[] bytes = Codec.encode(1, 99, Header.TYPE_COMMAND, 0, Payload.Empty.INSTANCE);
        assertThatThrownBy(() -> Codec.decodeMessage(bytes))
                .isInstanceOf(ProtocolException.class)
                .satisfies(e -> assertThat(((ProtocolException) e).errno()).isEqualTo(Errno.EINVAL));
    }

    @Test
    void deviceTreeIdentityRoundTripsAndRejectsTruncation() throws Exception {
        DeviceTreeIdentity identity = ProtocolTestModel.identity();
        byte[] bytes = PlatformExtension.encode(identity);
        DeviceTreeIdentity back = PlatformExtension.decode(bytes);
        assertThat(back.compatible()).isEqualTo(identity.compatible());
        assertThat(back.irqAcks()).isEqualTo(identity.irqAcks());
        assertThat(back.properties().get("reg-shift"))
                .isEqualTo(identity.properties().get("reg-shift"));
        assertThat(HEX.formatHex(bytes, 0, 12)).isEqualTo("4a564454" + "0100" + "0000" + "02000000");
        for (int length = 0; length < bytes.length; length++) {
            byte[] cut = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> PlatformExtension.decode(cut)).isInstanceOf(ProtocolException.class);
        }
    }
}
