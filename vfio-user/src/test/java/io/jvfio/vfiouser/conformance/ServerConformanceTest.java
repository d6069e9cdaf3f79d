package io.jvfio.vfiouser.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfiouser.conformance.Wire.Bytes;
import io.jvfio.vfiouser.conformance.Wire.Frame;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.DmaException;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import io.jvfio.vfiouser.testing.ProtocolTestModel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * jvfio's server against the specification (QEMU's docs/interop/vfio-user.rst) and libvfio-user, one
 * case a test, as docs/vfio-user-conformance.md lists them. Every request is a frame written by hand
 * on a real socket; every reply is read back as bytes. Each test ends with the fds it began with.
 */
class ServerConformanceTest {
    private static final int VERSION = 1;
    private static final int DMA_MAP = 2;
    private static final int DMA_UNMAP = 3;
    private static final int DEVICE_GET_INFO = 4;
    private static final int DEVICE_GET_REGION_INFO = 5;
    private static final int DEVICE_SET_IRQS = 8;
    private static final int REGION_READ = 9;
    private static final int REGION_WRITE = 10;
    private static final int DEVICE_RESET = 13;
    private static final int DEVICE_FEATURE = 16;
    private static final String ALL_CAPABILITIES =
            "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576,"
                    + "\"max_dma_maps\":65535,\"pgsizes\":4096}}";
    /** Long enough that an answer "at once" cannot be one given after waiting for the rest of a message. */
    private static final Duration PARTIAL = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private Path path;
    private VfioUserServer server;
    private int fdsBefore;
    private int nextId = 1;

    @BeforeEach
    void start() throws Exception {
        fdsBefore = Resources.openFds();
        path = dir.resolve("dev.sock");
        server = VfioUserServer.start(
                path, new ProtocolTestModel(), VfioUserServer.Options.defaults().withPartialTimeout(PARTIAL));
    }

    @AfterEach
    void stop() {
        server.close();
        assertThat(Resources.openFds()).as("fds back to where they were").isLessThanOrEqualTo(fdsBefore);
    }

    private Wire connect() throws ErrnoException {
        return new Wire(UnixSocket.connect(path), Duration.ofSeconds(5));
    }

    private static byte[] versionBody(int major, int minor, byte[] json) {
        return new Bytes().u16(major).u16(minor).raw(json).array();
    }

    private static byte[] nulTerminated(String json) {
        return (json + "\0").getBytes(StandardCharsets.UTF_8);
    }

    /** Connects and negotiates 0.2 proposing every capability. */
    private Wire negotiated() throws ErrnoException {
        Wire wire = connect();
        wire.send(nextId++, VERSION, 0, versionBody(0, 2, nulTerminated(ALL_CAPABILITIES)));
        Frame reply = wire.receive();
        assertOk(reply);
        return wire;
    }

    private static void assertOk(Frame reply) {
        assertThat(reply).as("a reply").isNotNull();
        assertThat(reply.isReply()).as(reply.toString()).isTrue();
        assertThat(reply.isError()).as(reply + " is no error reply").isFalse();
    }

    /** The specification's error reply: the header alone, with ERROR and the errno. */
    private static void assertError(Frame reply, int errno) {
        assertThat(reply).as("a reply").isNotNull();
        reply.closeFds();
        assertThat(reply.isReply()).as(reply.toString()).isTrue();
        assertThat(reply.isError()).as(reply + " is an error reply").isTrue();
        assertThat(reply.size()).as("an error reply is the header alone").isEqualTo(Wire.HEADER);
        assertThat(Errno.name(reply.error())).isEqualTo(Errno.name(errno));
    }

    /** The test device's scratch register takes a write and reads it back. */
    private void assertServes(Wire wire) throws ErrnoException {
        long value = 0x5EED_0000L + nextId;
        wire.send(
                nextId++,
                REGION_WRITE,
                0,
                new Bytes().u64(0).u32(0).u32(8).u64(value).array());
        assertOk(wire.receive());
        wire.send(nextId++, REGION_READ, 0, new Bytes().u64(0).u32(0).u32(8).array());
        Frame read = wire.receive();
        assertOk(read);
        assertThat(read.body().getLong(16)).isEqualTo(value);
    }

    private static JsonObject replyJson(Frame reply) {
        ByteBuffer body = reply.body();
        assertThat(body.get(body.limit() - 1))
                .as("the reply's JSON ends with a NUL")
                .isZero();
        byte[] json = new byte[body.limit() - 5];
        body.get(4, json);
        return JsonParser.parseString(new String(json, StandardCharsets.UTF_8)).getAsJsonObject();
    }

    // --- DEVICE_GET_REGION_INFO: the interop bug of issue #15 ---------------------------------------

    @Test
    void regionInfoWithArgszTooSmallForTheCapabilitiesGetsNoCapsNoFdAndTheArgszNeeded() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DEVICE_GET_REGION_INFO,
                    0,
                    new Bytes().u32(32).u32(0).u32(2).u32(0).u64(0).u64(0).array());
            Frame reply = wire.receive();
            assertOk(reply);
            reply.closeFds();
            assertThat(reply.fds())
                    .as("no fd: libvfio-user's client and QEMU's take none with this query")
                    .isEmpty();
            assertThat(reply.size()).isEqualTo(16 + 32);
            ByteBuffer info = reply.body();
            assertThat(info.getInt(0))
                    .as("argsz: the struct and the sparse-mmap capability")
                    .isEqualTo(32 + 8 + 8 + 16);
            assertThat(info.getInt(4)).as("flags READ | WRITE | MMAP, no CAPS").isEqualTo(0x7);
            assertThat(info.getInt(12)).as("cap_offset").isZero();
            assertThat(info.getLong(16)).as("size").isEqualTo(0x3000);
        }
    }

    @Test
    void regionInfoAskedAgainWithTheArgszNeededGetsTheFdAndTheSparseCapabilityAt32() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DEVICE_GET_REGION_INFO,
                    0,
                    new Bytes().u32(64).u32(0).u32(2).u32(0).u64(0).u64(0).array());
            Frame reply = wire.receive();
            assertOk(reply);
            reply.closeFds();
            assertThat(reply.fds()).hasSize(1);
            ByteBuffer info = reply.body();
            assertThat(info.limit()).isEqualTo(64);
            assertThat(info.getInt(0)).isEqualTo(64);
            assertThat(info.getInt(4)).as("flags READ | WRITE | MMAP | CAPS").isEqualTo(0xF);
            assertThat(info.getInt(12)).as("cap_offset").isEqualTo(32);
            assertThat(Short.toUnsignedInt(info.getShort(32)))
                    .as("VFIO_REGION_INFO_CAP_SPARSE_MMAP")
                    .isEqualTo(1);
            assertThat(Short.toUnsignedInt(info.getShort(34))).as("version").isEqualTo(1);
            assertThat(info.getInt(36)).as("next").isZero();
            assertThat(info.getInt(40)).as("nr_areas").isEqualTo(1);
            assertThat(info.getLong(48)).isEqualTo(0x1000);
            assertThat(info.getLong(56)).isEqualTo(0x1000);
        }
    }

    /**
     * A region mmap'able whole carries one sparse area over all of it, as libvfio-user's regions do, so
     * that its fd, too, comes only with the second query: libvfio-user's client takes none with the first.
     */
    @Test
    void regionMmapableWholeIsDescribedByOneAreaSoTheFirstQueryGetsNoFd() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DEVICE_GET_REGION_INFO,
                    0,
                    new Bytes().u32(32).u32(0).u32(1).u32(0).u64(0).u64(0).array());
            Frame small = wire.receive();
            assertOk(small);
            small.closeFds();
            assertThat(small.fds()).isEmpty();
            assertThat(small.body().getInt(0)).as("argsz needed").isEqualTo(64);
            assertThat(small.body().getInt(4)).as("READ | WRITE | MMAP").isEqualTo(0x7);
            wire.send(
                    nextId++,
                    DEVICE_GET_REGION_INFO,
                    0,
                    new Bytes().u32(64).u32(0).u32(1).u32(0).u64(0).u64(0).array());
            Frame full = wire.receive();
            assertOk(full);
            full.closeFds();
            assertThat(full.fds()).hasSize(1);
            assertThat(full.body().getInt(4)).as("READ | WRITE | MMAP | CAPS").isEqualTo(0xF);
            assertThat(full.body().getInt(40)).as("nr_areas").isEqualTo(1);
            assertThat(full.body().getLong(48)).isZero();
            assertThat(full.body().getLong(56)).as("the whole region").isEqualTo(0x2000);
        }
    }

    /**
     * Registers the model keeps readable in shared memory (RegionSpec.readMapped): the sparse-mmap
     * capability lists no area, so a peer that knows only it maps nothing and traps every access; the
     * read-only area comes in jvfio's own capability (0x4A56) after it, with the fd.
     */
    @Test
    void regionReadableFromMemoryListsItsAreaOnlyInJvfiosCapability() throws Exception {
        Path pagePath = dir.resolve("page.sock");
        RegionHandler ignored = new RegionHandler() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {}
        };
        DeviceModel model = new DeviceModel() {
            @Override
            public List<RegionSpec> regions() {
                return List.of(RegionSpec.readMapped(0, 0x1000, ignored));
            }
        };
        try (VfioUserServer pageServer = VfioUserServer.start(pagePath, model);
                Wire wire = new Wire(UnixSocket.connect(pagePath), Duration.ofSeconds(5))) {
            wire.send(nextId++, VERSION, 0, versionBody(0, 2, nulTerminated(ALL_CAPABILITIES)));
            assertOk(wire.receive());
            wire.send(
                    nextId++,
                    DEVICE_GET_REGION_INFO,
                    0,
                    new Bytes().u32(1024).u32(0).u32(0).u32(0).u64(0).u64(0).array());
            Frame full = wire.receive();
            assertOk(full);
            full.closeFds();
            ByteBuffer body = full.body();
            assertThat(full.fds()).hasSize(1);
            assertThat(body.getInt(4)).as("READ | WRITE | MMAP | CAPS").isEqualTo(0xF);
            int sparse = body.getInt(12);
            assertThat(Short.toUnsignedInt(body.getShort(sparse)))
                    .as("SPARSE_MMAP first")
                    .isEqualTo(1);
            assertThat(body.getInt(sparse + 8)).as("no area a peer may map").isZero();
            int readOnly = body.getInt(sparse + 4);
            assertThat(readOnly).as("a second capability").isPositive();
            assertThat(Short.toUnsignedInt(body.getShort(readOnly))).isEqualTo(0x4A56);
            assertThat(Short.toUnsignedInt(body.getShort(readOnly + 2)))
                    .as("version")
                    .isEqualTo(1);
            assertThat(body.getInt(readOnly + 4)).as("the last").isZero();
            assertThat(body.getInt(readOnly + 8)).as("nr_areas").isEqualTo(1);
            assertThat(body.getLong(readOnly + 16)).isZero();
            assertThat(body.getLong(readOnly + 24)).as("the whole page").isEqualTo(0x1000);
        }
    }

    /** libvfio-user's client sends its whole argsz-sized buffer with the second query, zeros after the struct. */
    @Test
    void regionInfoRequestCarryingItsWholeArgszBufferIsAnswered() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DEVICE_GET_REGION_INFO,
                    0,
                    new Bytes()
                            .u32(64)
                            .u32(0)
                            .u32(2)
                            .u32(0)
                            .u64(0)
                            .u64(0)
                            .raw(new byte[32])
                            .array());
            Frame reply = wire.receive();
            assertOk(reply);
            reply.closeFds();
            assertThat(reply.fds()).hasSize(1);
            assertThat(reply.body().getInt(0)).isEqualTo(64);
            assertThat(reply.body().getInt(12)).as("cap_offset").isEqualTo(32);
        }
    }

    // --- DMA_UNMAP -----------------------------------------------------------------------------------

    @Test
    void dmaUnmapWithFlagAllUnmapsEveryMapping() throws Exception {
        try (Wire wire = negotiated();
                Fd memory = MemFd.create("conformance-dma", 0x2000)) {
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes().u32(32).u32(3).u64(0).u64(0x100000).u64(0x1000).array(),
                    memory.get());
            assertOk(wire.receive());
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes().u32(32).u32(3).u64(0).u64(0x200000).u64(0x1000).array());
            assertOk(wire.receive());
            byte[] request = new Bytes().u32(24).u32(2).u64(0).u64(0).array();
            wire.send(nextId++, DMA_UNMAP, 0, request);
            Frame reply = wire.receive();
            assertOk(reply);
            byte[] echoed = new byte[reply.body().limit()];
            reply.body().get(0, echoed);
            assertThat(echoed).as("the reply is the request's DMA entry").isEqualTo(request);
            assertThat(Resources.mappings("conformance-dma"))
                    .as("the client's memory is unmapped")
                    .isZero();
            assertThatThrownBy(() -> server.context().dmaRead(0x200000, new byte[4]))
                    .isInstanceOf(DmaException.class)
                    .satisfies(e ->
                            assertThat(((DmaException) e).reason()).isEqualTo(DmaException.Reason.OUTSIDE_MAPPINGS));
            assertServes(wire);
        }
    }

    @Test
    void dmaUnmapWithFlagAllAndAnAddressIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DMA_UNMAP,
                    0,
                    new Bytes().u32(24).u32(2).u64(0x100000).u64(0x1000).array());
            assertError(wire.receive(), Errno.EINVAL);
            assertServes(wire);
        }
    }

    @Test
    void dmaUnmapOfARangeNotMappedOrOnlyPartlyMappedIsEnoent() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DMA_UNMAP,
                    0,
                    new Bytes().u32(24).u32(0).u64(0x100000).u64(0x1000).array());
            assertError(wire.receive(), Errno.ENOENT);
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes().u32(32).u32(3).u64(0).u64(0x100000).u64(0x2000).array());
            assertOk(wire.receive());
            wire.send(
                    nextId++,
                    DMA_UNMAP,
                    0,
                    new Bytes().u32(24).u32(0).u64(0x100000).u64(0x1000).array());
            assertError(wire.receive(), Errno.ENOENT);
            wire.send(
                    nextId++,
                    DMA_UNMAP,
                    0,
                    new Bytes().u32(24).u32(0).u64(0x100000).u64(0x4000).array());
            assertError(wire.receive(), Errno.ENOENT);
            wire.send(
                    nextId++,
                    DMA_UNMAP,
                    0,
                    new Bytes().u32(24).u32(0).u64(0x100000).u64(0x2000).array());
            assertOk(wire.receive());
        }
    }

    @Test
    void dmaUnmapWithTheDirtyBitmapFlagIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes().u32(32).u32(3).u64(0).u64(0x100000).u64(0x1000).array());
            assertOk(wire.receive());
            wire.send(
                    nextId++,
                    DMA_UNMAP,
                    0,
                    new Bytes()
                            .u32(24 + 16)
                            .u32(1)
                            .u64(0x100000)
                            .u64(0x1000)
                            .u64(0x1000)
                            .u64(8)
                            .array());
            assertError(wire.receive(), Errno.EINVAL);
            assertServes(wire);
        }
    }

    // --- VERSION -------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "bad JSON",
                "max_msg_fds \"foo\"",
                "max_msg_fds -1",
                "max_msg_fds 1025",
                "not UTF-8",
                "an fd attached",
                "twin_socket.supported not a boolean"
            })
    void failedVersionIsEinvalAndTheServerClosesTheConnection(String variant) throws Exception {
        byte[] json = switch (variant) {
            case "bad JSON" -> nulTerminated("{\"capabilities\":");
            case "max_msg_fds \"foo\"" -> nulTerminated("{\"capabilities\":{\"max_msg_fds\":\"foo\"}}");
            case "max_msg_fds -1" -> nulTerminated("{\"capabilities\":{\"max_msg_fds\":-1}}");
            case "max_msg_fds 1025" -> nulTerminated("{\"capabilities\":{\"max_msg_fds\":1025}}");
            case "not UTF-8" -> new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}', 0};
            case "twin_socket.supported not a boolean" ->
                nulTerminated("{\"capabilities\":{\"twin_socket\":{\"supported\":\"yes\"}}}");
            default -> nulTerminated(ALL_CAPABILITIES);
        };
        try (Wire wire = connect();
                EventFd eventFd = EventFd.create()) {
            int[] fds =
                    variant.equals("an fd attached") ? new int[] {eventFd.fd().get()} : new int[0];
            wire.send(nextId++, VERSION, 0, versionBody(0, 2, json), fds);
            assertError(wire.receive(), Errno.EINVAL);
            assertThat(wire.peerClosed())
                    .as("the specification: the server closes the connection")
                    .isTrue();
        }
        try (Wire next = negotiated()) {
            assertServes(next);
        }
    }

    @Test
    void versionWithMajor999IsEinvalAndTheServerClosesTheConnection() throws Exception {
        try (Wire wire = connect()) {
            wire.send(nextId++, VERSION, 0, versionBody(999, 0, nulTerminated(ALL_CAPABILITIES)));
            assertError(wire.receive(), Errno.EINVAL);
            assertThat(wire.peerClosed()).isTrue();
        }
    }

    @Test
    void versionJsonWithoutItsTerminatingNulIsEinval() throws Exception {
        try (Wire wire = connect()) {
            wire.send(nextId++, VERSION, 0, versionBody(0, 2, ALL_CAPABILITIES.getBytes(StandardCharsets.UTF_8)));
            assertError(wire.receive(), Errno.EINVAL);
            assertThat(wire.peerClosed()).isTrue();
        }
    }

    @Test
    void requestBeforeVersionIsEinvalAndTheServerClosesTheConnection() throws Exception {
        try (Wire wire = connect()) {
            wire.send(
                    nextId++,
                    DEVICE_GET_INFO,
                    0,
                    new Bytes().u32(16).u32(0).u32(0).u32(0).array());
            assertError(wire.receive(), Errno.EINVAL);
            assertThat(wire.peerClosed()).isTrue();
        }
    }

    @Test
    void versionReplyNamesOnlyCapabilitiesTheClientProposed() throws Exception {
        try (Wire wire = connect()) {
            wire.send(
                    nextId++,
                    VERSION,
                    0,
                    versionBody(0, 7, nulTerminated("{\"capabilities\":{\"max_msg_fds\":4,\"write_multiple\":true}}")));
            Frame reply = wire.receive();
            assertOk(reply);
            assertThat(Short.toUnsignedInt(reply.body().getShort(0)))
                    .as("major")
                    .isZero();
            assertThat(Short.toUnsignedInt(reply.body().getShort(2)))
                    .as("minor: min(proposed, 2)")
                    .isEqualTo(2);
            JsonObject capabilities = replyJson(reply).getAsJsonObject("capabilities");
            assertThat(capabilities.keySet()).isEqualTo(Set.of("max_msg_fds"));
            assertThat(capabilities.get("max_msg_fds").getAsInt())
                    .as("the server's own limit")
                    .isEqualTo(VfioUserServer.Options.defaults().maxMsgFds());
        }
        try (Wire wire = connect()) {
            wire.send(nextId++, VERSION, 0, versionBody(0, 1, new byte[0]));
            Frame reply = wire.receive();
            assertOk(reply);
            assertThat(Short.toUnsignedInt(reply.body().getShort(2))).isEqualTo(1);
            assertThat(replyJson(reply).getAsJsonObject("capabilities").keySet())
                    .isEmpty();
        }
    }

    /**
     * Twin-socket mode: the reply hands over the client's end of a fresh socket pair at fd_index 0, and
     * the device's DMA requests arrive there while the request that caused them waits on the main socket.
     */
    @Test
    void twinSocketProposedGetsASocketThatCarriesTheServersDmaRequests() throws Exception {
        try (Wire wire = connect()) {
            wire.send(
                    nextId++,
                    VERSION,
                    0,
                    versionBody(
                            0,
                            2,
                            nulTerminated("{\"capabilities\":{\"max_msg_fds\":8,"
                                    + "\"twin_socket\":{\"supported\":true}}}")));
            Frame reply = wire.receive();
            assertOk(reply);
            assertThat(reply.fds()).as("the client's end of the pair").hasSize(1);
            JsonObject twinSocket =
                    replyJson(reply).getAsJsonObject("capabilities").getAsJsonObject("twin_socket");
            assertThat(twinSocket.get("supported").getAsBoolean()).isTrue();
            assertThat(twinSocket.get("fd_index").getAsInt()).isZero();
            try (Wire twin = new Wire(UnixSocket.adopt(reply.fds().getFirst(), "twin"), Duration.ofSeconds(5))) {
                wire.send(
                        nextId++,
                        DMA_MAP,
                        0,
                        new Bytes()
                                .u32(32)
                                .u32(3)
                                .u64(0)
                                .u64(0x100000)
                                .u64(0x1000)
                                .array());
                assertOk(wire.receive());
                wire.send(
                        nextId++,
                        REGION_WRITE,
                        0,
                        new Bytes().u64(0x20).u32(0).u32(8).u64(0x100000).array());
                assertOk(wire.receive());
                wire.send(
                        nextId++,
                        REGION_WRITE,
                        0,
                        new Bytes().u64(0x28).u32(0).u32(8).u64(4).array());
                assertOk(wire.receive());
                int copy = nextId++;
                wire.send(
                        copy,
                        REGION_WRITE,
                        0,
                        new Bytes().u64(0x30).u32(0).u32(8).u64(1).array());

                Frame read = twin.receive();
                assertThat(read.command()).as("DMA_READ on the twin socket").isEqualTo(11);
                assertThat(read.isReply()).isFalse();
                assertThat(read.body().getLong(0)).isEqualTo(0x100000);
                assertThat(read.body().getLong(8)).isEqualTo(4);
                twin.send(
                        read.msgId(),
                        11,
                        Wire.TYPE_REPLY,
                        new Bytes()
                                .u64(0x100000)
                                .u64(4)
                                .raw(new byte[] {1, 2, 3, 4})
                                .array());
                Frame write = twin.receive();
                assertThat(write.command()).as("DMA_WRITE on the twin socket").isEqualTo(12);
                byte[] written = new byte[4];
                write.body().get(16, written);
                assertThat(written).as("the device added one to each byte").containsExactly(2, 3, 4, 5);
                twin.send(
                        write.msgId(),
                        12,
                        Wire.TYPE_REPLY,
                        new Bytes().u64(0x100004).u64(4).array());

                Frame done = wire.receive();
                assertThat(done.msgId())
                        .as("the main socket's next frame is the copy's reply")
                        .isEqualTo(copy);
                assertOk(done);
                assertServes(wire);
            }
        }
    }

    @Test
    void serverBelowADefaultRefusesAClientThatDidNotProposeThatCapability() throws Exception {
        Path small = dir.resolve("small.sock");
        try (VfioUserServer limited = VfioUserServer.start(
                small,
                new ProtocolTestModel(),
                new VfioUserServer.Options(
                        16, 64 * 1024, 65535, PARTIAL, Duration.ofSeconds(1), Duration.ofSeconds(1)))) {
            try (Wire wire = new Wire(UnixSocket.connect(small), Duration.ofSeconds(5))) {
                wire.send(
                        nextId++,
                        VERSION,
                        0,
                        versionBody(0, 2, nulTerminated("{\"capabilities\":{\"max_msg_fds\":8}}")));
                assertError(wire.receive(), Errno.EINVAL);
                assertThat(wire.peerClosed()).isTrue();
            }
            try (Wire wire = new Wire(UnixSocket.connect(small), Duration.ofSeconds(5))) {
                wire.send(nextId++, VERSION, 0, versionBody(0, 2, nulTerminated(ALL_CAPABILITIES)));
                Frame reply = wire.receive();
                assertOk(reply);
                assertThat(replyJson(reply)
                                .getAsJsonObject("capabilities")
                                .get("max_data_xfer_size")
                                .getAsLong())
                        .isEqualTo(64 * 1024);
            }
        }
    }

    // --- framing -------------------------------------------------------------------------------------

    @ParameterizedTest(name = "command {0}")
    @ValueSource(ints = {999, 0, 14, 15, 17, 18, 19})
    void unknownOrUnsupportedCommandIsEinval(int command) throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(nextId++, command, 0, new byte[8]);
            assertError(wire.receive(), Errno.EINVAL);
            assertServes(wire);
        }
    }

    @Test
    void unsolicitedMessageFlaggedAsAReplyIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    0x4242,
                    DEVICE_GET_INFO,
                    Wire.TYPE_REPLY,
                    new Bytes().u32(16).u32(0).u32(0).u32(0).array());
            Frame reply = wire.receive();
            assertThat(reply.msgId()).isEqualTo(0x4242);
            assertError(reply, Errno.EINVAL);
            assertServes(wire);
        }
    }

    @Test
    void unsolicitedErrorReplyIsDroppedWithoutAnAnswer() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(Wire.frame(0x4243, DEVICE_GET_INFO, Wire.TYPE_REPLY | Wire.ERROR, Errno.EIO, new byte[0]));
            assertServes(wire);
        }
    }

    @ParameterizedTest(name = "size 0x{0}")
    @ValueSource(strings = {"200010", "ffffffff"})
    void headerClaimingMoreThanTheLimitIsEinvalAtOnce(String hexSize) throws Exception {
        try (Wire wire = negotiated()) {
            long start = System.nanoTime();
            wire.send(new Bytes()
                    .u16(nextId++)
                    .u16(REGION_WRITE)
                    .u32(Long.parseLong(hexSize, 16))
                    .u32(0)
                    .u32(0)
                    .array());
            assertError(wire.receive(), Errno.EINVAL);
            assertThat((System.nanoTime() - start) / 1_000_000L)
                    .as("answered without waiting for a body")
                    .isLessThan(PARTIAL.toMillis() / 2);
            assertServes(wire);
        }
    }

    @Test
    void messageOfAnUnknownTypeIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DEVICE_GET_INFO,
                    2,
                    new Bytes().u32(16).u32(0).u32(0).u32(0).array());
            assertError(wire.receive(), Errno.EINVAL);
            assertServes(wire);
        }
    }

    // --- device, region and IRQ info ------------------------------------------------------------------

    @Test
    void deviceGetInfoWithArgszBelowItsStructIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DEVICE_GET_INFO,
                    0,
                    new Bytes().u32(8).u32(0).u32(0).u32(0).array());
            assertError(wire.receive(), Errno.EINVAL);
            wire.send(
                    nextId++,
                    DEVICE_GET_INFO,
                    0,
                    new Bytes().u32(16).u32(0).u32(0).u32(0).array());
            Frame reply = wire.receive();
            assertOk(reply);
            assertThat(reply.body().getInt(0)).as("argsz").isEqualTo(16);
            assertThat(reply.body().getInt(8)).as("num_regions").isEqualTo(3);
            assertThat(reply.body().getInt(12)).as("num_irqs").isEqualTo(2);
        }
    }

    @Test
    void regionInfoWithArgszBelowItsStructIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DEVICE_GET_REGION_INFO,
                    0,
                    new Bytes().u32(16).u32(0).u32(2).u32(0).u64(0).u64(0).array());
            assertError(wire.receive(), Errno.EINVAL);
        }
    }

    @Test
    void regionIoFdsIsAnsweredWithNoSubRegionsAndNoFd() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(nextId++, 6, 0, new Bytes().u32(256).u32(0).u32(0).u32(0).array());
            Frame reply = wire.receive();
            assertOk(reply);
            reply.closeFds();
            assertThat(reply.fds()).isEmpty();
            assertThat(reply.size()).isEqualTo(16 + 16);
            assertThat(reply.body().getInt(0)).as("argsz").isEqualTo(16);
            assertThat(reply.body().getInt(12)).as("count").isZero();
        }
    }

    @Test
    void regionIoFdsOfPostedWritesGiveOneEventfdPerWriteWithItsDatamatch() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(nextId++, 6, 0, new Bytes().u32(256).u32(0).u32(2).u32(0).array());
            Frame reply = wire.receive();
            assertOk(reply);
            try {
                assertThat(reply.fds()).as("one eventfd a posted write").hasSize(2);
                ByteBuffer body = reply.body();
                assertThat(body.getInt(0)).as("argsz").isEqualTo(16 + 2 * 40);
                assertThat(body.getInt(8)).as("index").isEqualTo(2);
                assertThat(body.getInt(12)).as("count").isEqualTo(2);
                for (int i = 0; i < 2; i++) {
                    int entry = 16 + 40 * i;
                    assertThat(body.getLong(entry)).as("offset").isEqualTo(0x10);
                    assertThat(body.getLong(entry + 8)).as("size").isEqualTo(4);
                    assertThat(body.getInt(entry + 16)).as("fd_index").isEqualTo(i);
                    assertThat(body.getInt(entry + 20)).as("type: ioeventfd").isZero();
                    assertThat(body.getInt(entry + 24)).as("flags: DATAMATCH").isEqualTo(1);
                    assertThat(body.getLong(entry + 32)).as("datamatch").isEqualTo(0xD00B + i);
                }
                try (EventFd second = EventFd.adopt(reply.fds().get(1).duplicate())) {
                    second.signal();
                }
                long deadline = System.nanoTime() + 5_000_000_000L;
                long value;
                do {
                    wire.send(
                            nextId++,
                            REGION_READ,
                            0,
                            new Bytes().u64(0x10).u32(2).u32(4).array());
                    Frame read = wire.receive();
                    assertOk(read);
                    value = Integer.toUnsignedLong(read.body().getInt(16));
                } while (value != 0xD00C && System.nanoTime() < deadline);
                assertThat(value)
                        .as("the signal became the write of its datamatch")
                        .isEqualTo(0xD00C);
            } finally {
                reply.closeFds();
            }
            assertServes(wire);
        }
    }

    @Test
    void regionIoFdsWithArgszTooSmallGetsTheCountAndArgszNeededWithoutFds() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(nextId++, 6, 0, new Bytes().u32(16).u32(0).u32(2).u32(0).array());
            Frame reply = wire.receive();
            assertOk(reply);
            reply.closeFds();
            assertThat(reply.fds()).isEmpty();
            assertThat(reply.size()).as("the struct alone").isEqualTo(16 + 16);
            assertThat(reply.body().getInt(0)).as("argsz needed").isEqualTo(16 + 2 * 40);
            assertThat(reply.body().getInt(12)).as("count").isEqualTo(2);
        }
    }

    // --- region access and IRQs -----------------------------------------------------------------------

    @Test
    void regionReadOfZeroBytesIsAnsweredWithNoData() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    REGION_READ,
                    0,
                    new Bytes().u64(0x10).u32(0).u32(0).array());
            Frame reply = wire.receive();
            assertOk(reply);
            assertThat(reply.size()).as("the struct with count 0, no data").isEqualTo(16 + 16);
            assertThat(reply.body().getLong(0)).isEqualTo(0x10);
            assertThat(reply.body().getInt(12)).isZero();
            assertServes(wire);
        }
    }

    @ParameterizedTest(name = "start {0}")
    @ValueSource(ints = {0, 1})
    void setIrqsMaskWithCountZeroIsEinval(int start) throws Exception {
        try (Wire wire = negotiated()) {
            int maskDataNone = (1 << 3) | 1;
            wire.send(
                    nextId++,
                    DEVICE_SET_IRQS,
                    0,
                    new Bytes()
                            .u32(20)
                            .u32(maskDataNone)
                            .u32(1)
                            .u32(start)
                            .u32(0)
                            .array());
            assertError(wire.receive(), Errno.EINVAL);
            assertServes(wire);
        }
    }

    @Test
    void setIrqsTriggerWithCountZeroDisablesTheIndex() throws Exception {
        try (Wire wire = negotiated()) {
            int triggerDataNone = (1 << 5) | 1;
            wire.send(
                    nextId++,
                    DEVICE_SET_IRQS,
                    0,
                    new Bytes()
                            .u32(20)
                            .u32(triggerDataNone)
                            .u32(1)
                            .u32(0)
                            .u32(0)
                            .array());
            assertOk(wire.receive());
        }
    }

    // --- where jvfio is stricter than libvfio-user, as the specification allows ----------------------

    @Test
    void fdsOnARequestThatTakesNoneAreEinvalAndClosed() throws Exception {
        try (Wire wire = negotiated();
                EventFd eventFd = EventFd.create()) {
            wire.send(
                    nextId++,
                    DEVICE_GET_INFO,
                    0,
                    new Bytes().u32(16).u32(0).u32(0).u32(0).array(),
                    eventFd.fd().get());
            assertError(wire.receive(), Errno.EINVAL);
            assertServes(wire);
        }
    }

    @Test
    void deviceResetWithAPayloadIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(nextId++, DEVICE_RESET, 0, new byte[4]);
            assertError(wire.receive(), Errno.EINVAL);
            wire.send(nextId++, DEVICE_RESET, 0, new byte[0]);
            assertOk(wire.receive());
        }
    }

    @Test
    void dmaMapWithTwoFdsIsEinval() throws Exception {
        try (Wire wire = negotiated();
                Fd memory = MemFd.create("conformance-dma", 0x2000)) {
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes().u32(32).u32(3).u64(0).u64(0x100000).u64(0x1000).array(),
                    memory.get(),
                    memory.get());
            assertError(wire.receive(), Errno.EINVAL);
            assertServes(wire);
        }
    }

    @Test
    void dmaMapOfSizeZeroIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes().u32(32).u32(3).u64(0).u64(0x100000).u64(0).array());
            assertError(wire.receive(), Errno.EINVAL);
        }
    }

    @Test
    void dmaMapUnalignedWithoutAnFdIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes().u32(32).u32(3).u64(0).u64(0x100800).u64(0x1000).array());
            assertError(wire.receive(), Errno.EINVAL);
        }
    }

    @Test
    void dmaMapPastTheEndOfItsFdIsEinval() throws Exception {
        try (Wire wire = negotiated();
                Fd memory = MemFd.create("conformance-dma", 0x2000)) {
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes()
                            .u32(32)
                            .u32(3)
                            .u64(0x1000)
                            .u64(0x100000)
                            .u64(0x2000)
                            .array(),
                    memory.get());
            assertError(wire.receive(), Errno.EINVAL);
            assertThat(Resources.mappings("conformance-dma")).isZero();
        }
    }

    @Test
    void dmaMapOverlappingAMappingIsEexist() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes().u32(32).u32(3).u64(0).u64(0x100000).u64(0x2000).array());
            assertOk(wire.receive());
            wire.send(
                    nextId++,
                    DMA_MAP,
                    0,
                    new Bytes().u32(32).u32(3).u64(0).u64(0x101000).u64(0x2000).array());
            assertError(wire.receive(), Errno.EEXIST);
        }
    }

    // --- chosen where libvfio-user and the kernel differ ---------------------------------------------

    @Test
    void deviceFeatureForAFeatureTheDeviceLacksIsEnotty() throws Exception {
        try (Wire wire = negotiated()) {
            int migrationGet = 1 | (1 << 16);
            wire.send(
                    nextId++,
                    DEVICE_FEATURE,
                    0,
                    new Bytes().u32(64).u32(migrationGet).array());
            assertError(wire.receive(), Errno.ENOTTY);
            wire.send(
                    nextId++,
                    DEVICE_FEATURE,
                    0,
                    new Bytes().u32(4).u32(migrationGet).array());
            assertError(wire.receive(), Errno.EINVAL);
        }
    }
}
