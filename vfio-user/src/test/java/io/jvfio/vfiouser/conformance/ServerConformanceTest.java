package io.jvfio.vfiouser.conformance;

import static io.jvfio.vfiouser.testing.ModelBuilder.model;
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
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import io.jvfio.vfiouser.testing.ProtocolTestModel;
import io.jvfio.vfiouser.testing.RefusalLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
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
    private static final int DEVICE_GET_REGION_IO_FDS = 6;
    private static final int DEVICE_SET_IRQS = 8;
    private static final int REGION_READ = 9;
    private static final int REGION_WRITE = 10;
    private static final int DMA_READ = 11;
    private static final int DMA_WRITE = 12;
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
    private ProtocolTestModel model;
    private VfioUserServer server;
    private int fdsBefore;
    private int nextId = 1;

    @BeforeEach
    void start() throws Exception {
        fdsBefore = Resources.openFds();
        path = dir.resolve("dev.sock");
        model = new ProtocolTestModel();
        server = VfioUserServer.start(
                path, model, VfioUserServer.Options.defaults().withPartialTimeout(PARTIAL));
    }

    @AfterEach
    void stop() {
        server.close();
        assertThat(Resources.openFds()).as("fds back to where they were").isLessThanOrEqualTo(fdsBefore);
    }

    private Wire connect() throws ErrnoException {
        return connect(path);
    }

    private static Wire connect(Path socket) throws ErrnoException {
        return new Wire(UnixSocket.connect(socket), Duration.ofSeconds(5));
    }

    private static byte[] versionBody(int major, int minor, byte[] json) {
        return new Bytes().u16(major).u16(minor).raw(json).array();
    }

    private static byte[] nulTerminated(String json) {
        return (json + "\0").getBytes(StandardCharsets.UTF_8);
    }

    /** DMA_MAP's body: argsz 32, flags READ | WRITE. */
    private static byte[] dmaMap(long offset, long address, long size) {
        return new Bytes().u32(32).u32(3).u64(offset).u64(address).u64(size).array();
    }

    /** DMA_UNMAP's body without a dirty bitmap: argsz 24. */
    private static byte[] dmaUnmap(int flags, long address, long size) {
        return new Bytes().u32(24).u32(flags).u64(address).u64(size).array();
    }

    /** DEVICE_GET_INFO's body: all zero but argsz. */
    private static byte[] deviceInfo(int argsz) {
        return new Bytes().u32(argsz).u32(0).u32(0).u32(0).array();
    }

    /** DEVICE_GET_REGION_INFO's body: all zero but argsz and the region's index. */
    private static byte[] regionInfo(int argsz, int index) {
        return new Bytes().u32(argsz).u32(0).u32(index).u32(0).u64(0).u64(0).array();
    }

    /** DEVICE_GET_REGION_IO_FDS's body: all zero but argsz and the region's index. */
    private static byte[] regionIoFds(int argsz, int index) {
        return new Bytes().u32(argsz).u32(0).u32(index).u32(0).array();
    }

    private static byte[] regionRead(long offset, int region, int count) {
        return new Bytes().u64(offset).u32(region).u32(count).array();
    }

    /** REGION_WRITE's body: eight bytes into region 0. */
    private static byte[] regionWrite(long offset, long value) {
        return new Bytes().u64(offset).u32(0).u32(8).u64(value).array();
    }

    /** REGION_WRITE's body: four bytes into {@code region}. */
    private static byte[] regionWrite4(long offset, int region, int value) {
        return new Bytes().u64(offset).u32(region).u32(4).u32(value).array();
    }

    /** DEVICE_SET_IRQS's body with no data after it: argsz 20. */
    private static byte[] irqSet(int flags, int index, int start, int count) {
        return irqSet(20, flags, index, start, count);
    }

    /** A DEVICE_SET_IRQS payload claiming {@code argsz}, whatever its own size. */
    private static byte[] irqSet(int argsz, int flags, int index, int start, int count, byte... data) {
        return new Bytes()
                .u32(argsz)
                .u32(flags)
                .u32(index)
                .u32(start)
                .u32(count)
                .raw(data)
                .array();
    }

    /** Connects and negotiates 0.2 proposing every capability. */
    private Wire negotiated() throws ErrnoException {
        return negotiated(path);
    }

    private Wire negotiated(Path socket) throws ErrnoException {
        Wire wire = connect(socket);
        assertAnswered(wire, VERSION, versionBody(0, 2, nulTerminated(ALL_CAPABILITIES)));
        return wire;
    }

    /** Sends {@code command} with the next message id and no flags; its reply. */
    private Frame request(Wire wire, int command, byte[] body, int... fds) throws ErrnoException {
        wire.send(nextId++, command, 0, body, fds);
        return wire.receive();
    }

    /** As {@link #request}, for a request the server must carry out: its reply, no error. */
    private Frame assertAnswered(Wire wire, int command, byte[] body, int... fds) throws ErrnoException {
        Frame reply = request(wire, command, body, fds);
        assertOk(reply);
        return reply;
    }

    /**
     * On a negotiated connection of its own, the message gets the error reply {@code errno}; a refused
     * request must not cost the client its connection, so the server must serve on it after.
     */
    private void assertRefused(int command, int flags, byte[] body, int errno) throws ErrnoException {
        try (Wire wire = negotiated()) {
            wire.send(nextId++, command, flags, body);
            assertError(wire.receive(), errno);
            assertServes(wire);
        }
    }

    /**
     * The specification: a message refused before negotiation has succeeded ends the connection, as the
     * two ends have no version to go on with.
     */
    private void assertRefusedAndClosed(Wire wire, int command, byte[] body, int... fds) throws ErrnoException {
        assertRefusedAndClosed(wire, Errno.EINVAL, command, body, fds);
    }

    private void assertRefusedAndClosed(Wire wire, int errno, int command, byte[] body, int... fds)
            throws ErrnoException {
        assertError(request(wire, command, body, fds), errno);
        assertThat(wire.peerClosed())
                .as("the specification: the server closes the connection")
                .isTrue();
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
        assertAnswered(wire, REGION_WRITE, regionWrite(0, value));
        Frame read = assertAnswered(wire, REGION_READ, regionRead(0, 0, 8));
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
            Frame reply = assertAnswered(wire, DEVICE_GET_REGION_INFO, regionInfo(32, 2));
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
            Frame reply = assertAnswered(wire, DEVICE_GET_REGION_INFO, regionInfo(64, 2));
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
            Frame small = assertAnswered(wire, DEVICE_GET_REGION_INFO, regionInfo(32, 1));
            small.closeFds();
            assertThat(small.fds()).isEmpty();
            assertThat(small.body().getInt(0)).as("argsz needed").isEqualTo(64);
            assertThat(small.body().getInt(4)).as("READ | WRITE | MMAP").isEqualTo(0x7);
            Frame full = assertAnswered(wire, DEVICE_GET_REGION_INFO, regionInfo(64, 1));
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
        DeviceModel model =
                model().regions(RegionSpec.readMapped(0, 0x1000, ignored)).build();
        try (VfioUserServer pageServer = VfioUserServer.start(pagePath, model);
                Wire wire = negotiated(pagePath)) {
            Frame full = assertAnswered(wire, DEVICE_GET_REGION_INFO, regionInfo(1024, 0));
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
            Frame reply = assertAnswered(
                    wire,
                    DEVICE_GET_REGION_INFO,
                    new Bytes().raw(regionInfo(64, 2)).raw(new byte[32]).array());
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
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x1000), memory.get());
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x200000, 0x1000));
            byte[] unmapAll = dmaUnmap(2, 0, 0);
            Frame reply = assertAnswered(wire, DMA_UNMAP, unmapAll);
            byte[] echoed = new byte[reply.body().limit()];
            reply.body().get(0, echoed);
            assertThat(echoed).as("the reply is the request's DMA entry").isEqualTo(unmapAll);
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
        assertRefused(DMA_UNMAP, 0, dmaUnmap(2, 0x100000, 0x1000), Errno.EINVAL);
    }

    @Test
    void dmaUnmapOfARangeNotMappedOrOnlyPartlyMappedIsEnoent() throws Exception {
        try (Wire wire = negotiated()) {
            assertError(request(wire, DMA_UNMAP, dmaUnmap(0, 0x100000, 0x1000)), Errno.ENOENT);
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x2000));
            assertError(request(wire, DMA_UNMAP, dmaUnmap(0, 0x100000, 0x1000)), Errno.ENOENT);
            assertError(request(wire, DMA_UNMAP, dmaUnmap(0, 0x100000, 0x4000)), Errno.ENOENT);
            assertAnswered(wire, DMA_UNMAP, dmaUnmap(0, 0x100000, 0x2000));
        }
    }

    @Test
    void dmaUnmapWithTheDirtyBitmapFlagIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x1000));
            byte[] withBitmap = new Bytes()
                    .u32(24 + 16)
                    .u32(1)
                    .u64(0x100000)
                    .u64(0x1000)
                    .u64(0x1000)
                    .u64(8)
                    .array();
            assertError(request(wire, DMA_UNMAP, withBitmap), Errno.EINVAL);
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
            assertRefusedAndClosed(wire, VERSION, versionBody(0, 2, json), fds);
        }
        try (Wire next = negotiated()) {
            assertServes(next);
        }
    }

    @Test
    void versionWithMajor999IsEinvalAndTheServerClosesTheConnection() throws Exception {
        try (Wire wire = connect()) {
            assertRefusedAndClosed(wire, VERSION, versionBody(999, 0, nulTerminated(ALL_CAPABILITIES)));
        }
    }

    @Test
    void versionJsonWithoutItsTerminatingNulIsEinval() throws Exception {
        try (Wire wire = connect()) {
            assertRefusedAndClosed(wire, VERSION, versionBody(0, 2, ALL_CAPABILITIES.getBytes(StandardCharsets.UTF_8)));
        }
    }

    @Test
    void requestBeforeVersionIsEinvalAndTheServerClosesTheConnection() throws Exception {
        try (Wire wire = connect()) {
            assertRefusedAndClosed(wire, DEVICE_GET_INFO, deviceInfo(16));
        }
    }

    @Test
    void versionReplyNamesOnlyCapabilitiesTheClientProposed() throws Exception {
        try (Wire wire = connect()) {
            Frame reply = assertAnswered(
                    wire,
                    VERSION,
                    versionBody(0, 7, nulTerminated("{\"capabilities\":{\"max_msg_fds\":4,\"write_multiple\":true}}")));
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
            Frame reply = assertAnswered(wire, VERSION, versionBody(0, 1, new byte[0]));
            assertThat(Short.toUnsignedInt(reply.body().getShort(2))).isEqualTo(1);
            assertThat(replyJson(reply).getAsJsonObject("capabilities").keySet())
                    .isEmpty();
        }
    }

    /**
     * pgsizes is what both ends take in DMA maps: the server, which needs 4 KiB alignment, takes every
     * page size from 4 KiB up, so it answers the client's own sizes from 4 KiB up (a subset of the
     * proposal), never a size the client left out; a client with none of those cannot be served.
     */
    @Test
    void versionAnswersPgsizesWithTheClientsOwnSizesTheServerTakes() throws Exception {
        long twoMiB = 0x200000;
        for (long proposed : new long[] {twoMiB, twoMiB | 0x1000, twoMiB | 0x1000 | 0x800}) {
            try (Wire wire = connect()) {
                Frame reply = assertAnswered(
                        wire,
                        VERSION,
                        versionBody(0, 2, nulTerminated("{\"capabilities\":{\"pgsizes\":" + proposed + "}}")));
                assertThat(replyJson(reply)
                                .getAsJsonObject("capabilities")
                                .get("pgsizes")
                                .getAsLong())
                        .as("pgsizes answered to 0x" + Long.toHexString(proposed))
                        .isEqualTo(proposed & ~0xFFFL);
            }
        }
        try (Wire wire = connect()) {
            assertRefusedAndClosed(
                    wire, VERSION, versionBody(0, 2, nulTerminated("{\"capabilities\":{\"pgsizes\":2048}}")));
        }
    }

    /**
     * Twin-socket mode: the reply hands over the client's end of a fresh socket pair at fd_index 0, and
     * the device's DMA requests arrive there while the request that caused them waits on the main socket.
     */
    @Test
    void twinSocketProposedGetsASocketThatCarriesTheServersDmaRequests() throws Exception {
        try (Wire wire = connect()) {
            Frame reply = assertAnswered(
                    wire,
                    VERSION,
                    versionBody(
                            0,
                            2,
                            nulTerminated("{\"capabilities\":{\"max_msg_fds\":8,"
                                    + "\"twin_socket\":{\"supported\":true}}}")));
            assertThat(reply.fds()).as("the client's end of the pair").hasSize(1);
            JsonObject twinSocket =
                    replyJson(reply).getAsJsonObject("capabilities").getAsJsonObject("twin_socket");
            assertThat(twinSocket.get("supported").getAsBoolean()).isTrue();
            assertThat(twinSocket.get("fd_index").getAsInt()).isZero();
            try (Wire twin = new Wire(UnixSocket.adopt(reply.fds().getFirst(), "twin"), Duration.ofSeconds(5))) {
                assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x1000));
                assertAnswered(wire, REGION_WRITE, regionWrite(0x20, 0x100000));
                assertAnswered(wire, REGION_WRITE, regionWrite(0x28, 4));
                int copy = nextId++;
                wire.send(copy, REGION_WRITE, 0, regionWrite(0x30, 1));

                Frame read = twin.receive();
                assertThat(read.command()).as("DMA_READ on the twin socket").isEqualTo(DMA_READ);
                assertThat(read.isReply()).isFalse();
                assertThat(read.body().getLong(0)).isEqualTo(0x100000);
                assertThat(read.body().getLong(8)).isEqualTo(4);
                twin.send(
                        read.msgId(),
                        DMA_READ,
                        Wire.TYPE_REPLY,
                        new Bytes()
                                .u64(0x100000)
                                .u64(4)
                                .raw(new byte[] {1, 2, 3, 4})
                                .array());
                Frame write = twin.receive();
                assertThat(write.command()).as("DMA_WRITE on the twin socket").isEqualTo(DMA_WRITE);
                byte[] written = new byte[4];
                write.body().get(16, written);
                assertThat(written).as("the device added one to each byte").containsExactly(2, 3, 4, 5);
                twin.send(
                        write.msgId(),
                        DMA_WRITE,
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
    void versionThatTheModelFailsIsEioClosesAndLeavesNoTwinSocket() throws Exception {
        Path failingPath = dir.resolve("failing.sock");
        DeviceModel model = model().onClientConnected(() -> {
                    throw new IllegalStateException("the model cannot take a client now");
                })
                .build();
        try (VfioUserServer failing = VfioUserServer.start(failingPath, model)) {
            int fds = Resources.openFds();
            try (Wire wire = connect(failingPath)) {
                byte[] twinProposed = versionBody(
                        0,
                        2,
                        nulTerminated("{\"capabilities\":{\"max_msg_fds\":8,\"twin_socket\":{\"supported\":true}}}"));
                assertRefusedAndClosed(wire, Errno.EIO, VERSION, twinProposed);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (failing.clientsServed() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(failing.clientsServed()).as("the connection ended").isEqualTo(1);
            assertThat(Resources.openFds())
                    .as("no end of a twin socket left in the server")
                    .isLessThanOrEqualTo(fds);
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
            try (Wire wire = connect(small)) {
                assertRefusedAndClosed(
                        wire, VERSION, versionBody(0, 2, nulTerminated("{\"capabilities\":{\"max_msg_fds\":8}}")));
            }
            try (Wire wire = connect(small)) {
                Frame reply = assertAnswered(wire, VERSION, versionBody(0, 2, nulTerminated(ALL_CAPABILITIES)));
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
        assertRefused(command, 0, new byte[8], Errno.EINVAL);
    }

    @Test
    void unsolicitedMessageFlaggedAsAReplyIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(0x4242, DEVICE_GET_INFO, Wire.TYPE_REPLY, deviceInfo(16));
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
        assertRefused(DEVICE_GET_INFO, 2, deviceInfo(16), Errno.EINVAL);
    }

    // --- device, region and IRQ info ------------------------------------------------------------------

    @Test
    void deviceGetInfoWithArgszBelowItsStructIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            assertError(request(wire, DEVICE_GET_INFO, deviceInfo(8)), Errno.EINVAL);
            Frame reply = assertAnswered(wire, DEVICE_GET_INFO, deviceInfo(16));
            assertThat(reply.body().getInt(0)).as("argsz").isEqualTo(16);
            assertThat(reply.body().getInt(8)).as("num_regions").isEqualTo(3);
            assertThat(reply.body().getInt(12)).as("num_irqs").isEqualTo(2);
        }
    }

    @Test
    void regionInfoWithArgszBelowItsStructIsEinval() throws Exception {
        assertRefused(DEVICE_GET_REGION_INFO, 0, regionInfo(16, 2), Errno.EINVAL);
    }

    @Test
    void regionIoFdsIsAnsweredWithNoSubRegionsAndNoFd() throws Exception {
        try (Wire wire = negotiated()) {
            Frame reply = assertAnswered(wire, DEVICE_GET_REGION_IO_FDS, regionIoFds(256, 0));
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
            Frame reply = assertAnswered(wire, DEVICE_GET_REGION_IO_FDS, regionIoFds(256, 2));
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
                    Frame read = assertAnswered(wire, REGION_READ, regionRead(0x10, 2, 4));
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

    /**
     * QEMU's client posts its region writes so: nothing waits for the model, which is told it is a posted
     * write. The REGION_READ after it is answered first and alone, once the write is done.
     */
    @Test
    void regionWriteWithNoReplyIsCarriedOutUnansweredAsAPostedWrite() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(nextId++, REGION_WRITE, Wire.NO_REPLY, regionWrite4(0x10, 2, 0xD00C));

            Frame read = assertAnswered(wire, REGION_READ, regionRead(0x10, 2, 4));

            assertThat(read.msgId())
                    .as("the read's own reply, none for the write")
                    .isEqualTo(nextId - 1);
            assertThat(read.body().getInt(16)).as("the write landed").isEqualTo(0xD00C);
            assertThat(model.postedAccesses.get()).as("the write came posted").isEqualTo(1);
            assertThat(model.trappedAccesses.get())
                    .as("the read alone came waited for")
                    .isEqualTo(1);
        }
    }

    @Test
    void regionWriteTheClientWaitsForComesToTheModelAsAPlainWrite() throws Exception {
        try (Wire wire = negotiated()) {
            assertAnswered(wire, REGION_WRITE, regionWrite4(0x10, 2, 0xD00C));

            assertThat(model.trappedAccesses.get()).isEqualTo(1);
            assertThat(model.postedAccesses.get()).isZero();
        }
    }

    @Test
    void regionIoFdsWithArgszTooSmallGetsTheCountAndArgszNeededWithoutFds() throws Exception {
        try (Wire wire = negotiated()) {
            Frame reply = assertAnswered(wire, DEVICE_GET_REGION_IO_FDS, regionIoFds(16, 2));
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
            Frame reply = assertAnswered(wire, REGION_READ, regionRead(0x10, 0, 0));
            assertThat(reply.size()).as("the struct with count 0, no data").isEqualTo(16 + 16);
            assertThat(reply.body().getLong(0)).isEqualTo(0x10);
            assertThat(reply.body().getInt(12)).isZero();
            assertServes(wire);
        }
    }

    /**
     * max_data_xfer_size is the most each end takes in one data transfer message: a read whose reply
     * would carry more than the client's own is refused, not answered with a message it cannot take.
     */
    @Test
    void regionReadOfMoreThanTheClientsOwnMaxDataXferSizeIsEinval() throws Exception {
        try (RefusalLog log = new RefusalLog();
                Wire wire = connect()) {
            assertAnswered(
                    wire,
                    VERSION,
                    versionBody(0, 2, nulTerminated("{\"capabilities\":{\"max_data_xfer_size\":4096}}")));
            assertError(request(wire, REGION_READ, regionRead(0, 1, 0x2000)), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("count 8192", "max_data_xfer_size 4096");
            Frame read = assertAnswered(wire, REGION_READ, regionRead(0x1000, 1, 0x1000));
            assertThat(read.size()).as("the most the client takes").isEqualTo(16 + 16 + 0x1000);
            assertServes(wire);
        }
    }

    @ParameterizedTest(name = "start {0}")
    @ValueSource(ints = {0, 1})
    void setIrqsMaskWithCountZeroIsEinval(int start) throws Exception {
        int maskDataNone = (1 << 3) | 1;
        assertRefused(DEVICE_SET_IRQS, 0, irqSet(maskDataNone, 1, start, 0), Errno.EINVAL);
    }

    @Test
    void setIrqsTriggerWithCountZeroDisablesTheIndex() throws Exception {
        try (Wire wire = negotiated()) {
            int triggerDataNone = (1 << 5) | 1;
            assertAnswered(wire, DEVICE_SET_IRQS, irqSet(triggerDataNone, 1, 0, 0));
        }
    }

    /**
     * Count 0 disables an index's interrupts; an index the device leaves empty has none to disable, and
     * libvfio-user refuses it (its start 0 is not below the index's count 0).
     */
    @Test
    void setIrqsTriggerWithCountZeroOnAnEmptyIndexIsEinval() throws Exception {
        Path gapPath = dir.resolve("gap.sock");
        DeviceModel model = model().irqs(ModelIrqSpec.edge(1, 1)).build();
        int triggerDataNone = (1 << 5) | 1;
        try (VfioUserServer gap = VfioUserServer.start(gapPath, model);
                Wire wire = negotiated(gapPath)) {
            assertError(request(wire, DEVICE_SET_IRQS, irqSet(triggerDataNone, 0, 0, 0)), Errno.EINVAL);
            assertAnswered(wire, DEVICE_SET_IRQS, irqSet(triggerDataNone, 1, 0, 0));
        }
    }

    /**
     * The specification: argsz "is the size of the VFIO IRQ set request payload, including any data";
     * libvfio-user refuses a message whose size is not its argsz.
     */
    @Test
    void setIrqsWhoseArgszIsNotItsPayloadSizeIsEinval() throws Exception {
        int triggerDataNone = (1 << 5) | 1;
        int triggerDataBool = (1 << 5) | (1 << 1);
        try (Wire wire = negotiated()) {
            byte[] boolsArgszWithoutData = irqSet(20, triggerDataBool, 0, 0, 1, (byte) 1);
            assertError(request(wire, DEVICE_SET_IRQS, boolsArgszWithoutData), Errno.EINVAL);
            byte[] noneArgszPastThePayload = irqSet(24, triggerDataNone, 0, 0, 1);
            assertError(request(wire, DEVICE_SET_IRQS, noneArgszPastThePayload), Errno.EINVAL);
            byte[] bools = irqSet(21, triggerDataBool, 0, 0, 1, (byte) 1);
            assertAnswered(wire, DEVICE_SET_IRQS, bools);
            assertServes(wire);
        }
    }

    // --- where jvfio is stricter than libvfio-user, as the specification allows ----------------------

    @Test
    void fdsOnARequestThatTakesNoneAreEinvalAndClosed() throws Exception {
        try (Wire wire = negotiated();
                EventFd eventFd = EventFd.create()) {
            assertError(
                    request(wire, DEVICE_GET_INFO, deviceInfo(16), eventFd.fd().get()), Errno.EINVAL);
            assertServes(wire);
        }
    }

    @Test
    void deviceResetWithAPayloadIsEinval() throws Exception {
        try (Wire wire = negotiated()) {
            assertError(request(wire, DEVICE_RESET, new byte[4]), Errno.EINVAL);
            assertAnswered(wire, DEVICE_RESET, new byte[0]);
        }
    }

    @Test
    void aCommandWithTheErrorFlagIsEinvalAndNotCarriedOut() throws Exception {
        try (Wire wire = negotiated()) {
            wire.send(nextId++, DEVICE_RESET, Wire.ERROR, new byte[0]);
            assertError(wire.receive(), Errno.EINVAL);
            assertServes(wire);
        }
    }

    @Test
    void dmaMapWithTwoFdsIsEinval() throws Exception {
        try (Wire wire = negotiated();
                Fd memory = MemFd.create("conformance-dma", 0x2000)) {
            assertError(request(wire, DMA_MAP, dmaMap(0, 0x100000, 0x1000), memory.get(), memory.get()), Errno.EINVAL);
            assertServes(wire);
        }
    }

    @Test
    void dmaMapOfSizeZeroIsEinval() throws Exception {
        assertRefused(DMA_MAP, 0, dmaMap(0, 0x100000, 0), Errno.EINVAL);
    }

    /**
     * A window the device may neither read nor write is refused, as the kernel's type1 IOMMU refuses it:
     * kept, every DMA into it would fail later, far from the request that caused it.
     */
    @Test
    void dmaMapAllowingNeitherReadNorWriteIsEinval() throws Exception {
        try (RefusalLog log = new RefusalLog();
                Wire wire = negotiated()) {
            byte[] noAccess =
                    new Bytes().u32(32).u32(0).u64(0).u64(0x100000).u64(0x1000).array();
            assertError(request(wire, DMA_MAP, noAccess), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("neither reading (1) nor writing (2)");
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x1000));
        }
    }

    /** Each refusal of a range says which of its faults it has: empty, or beyond the addresses taken. */
    @Test
    void dmaMapEmptyOrEndingPastTheAddressesTakenIsEinvalSayingWhich() throws Exception {
        try (RefusalLog log = new RefusalLog();
                Wire wire = negotiated()) {
            assertError(request(wire, DMA_MAP, dmaMap(0, 0x100000, 0)), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("+0x0) is empty");
            assertError(request(wire, DMA_MAP, dmaMap(0, 0x8000_0000_0000_0000L, 0x1000)), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("[0x8000000000000000, +0x1000) ends past 0x7fffffffffffffff");
            assertError(request(wire, DMA_MAP, dmaMap(0, 0x7FFF_FFFF_FFFF_F000L, 0x2000)), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("ends past 0x7fffffffffffffff");
            assertServes(wire);
        }
    }

    @Test
    void dmaMapUnalignedWithoutAnFdIsEinval() throws Exception {
        assertRefused(DMA_MAP, 0, dmaMap(0, 0x100800, 0x1000), Errno.EINVAL);
    }

    /**
     * pgsizes is the page size the client agreed its DMA maps keep to: with 2 MiB alone negotiated, a map
     * whose address, size or fd offset is only 4 KiB-aligned is refused, as the kernel's type1 IOMMU
     * refuses one off its smallest page size, with one line naming the field and the page size.
     */
    @Test
    void dmaMapOffTheNegotiatedPageSizeIsEinvalNamingTheFieldAndThePageSize() throws Exception {
        try (RefusalLog log = new RefusalLog();
                Wire wire = connect();
                Fd memory = MemFd.create("conformance-dma", 0x400000)) {
            assertAnswered(wire, VERSION, versionBody(0, 2, nulTerminated("{\"capabilities\":{\"pgsizes\":2097152}}")));
            assertError(request(wire, DMA_MAP, dmaMap(0, 0x201000, 0x200000)), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("address 0x201000", "page size 0x200000");
            assertError(request(wire, DMA_MAP, dmaMap(0, 0x200000, 0x1000)), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("size 0x1000", "page size 0x200000");
            assertError(request(wire, DMA_MAP, dmaMap(0x1000, 0x200000, 0x200000), memory.get()), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("offset 0x1000", "page size 0x200000");
            assertThat(Resources.mappings("conformance-dma")).isZero();
            assertAnswered(wire, DMA_MAP, dmaMap(0x200000, 0x200000, 0x200000), memory.get());
            assertAnswered(wire, DMA_UNMAP, dmaUnmap(0, 0x200000, 0x200000));
            assertServes(wire);
        }
    }

    /**
     * A DMA_UNMAP off the page size is malformed, not a range that happens to be unmapped: EINVAL naming
     * the field, as the kernel's type1 IOMMU answers, where libvfio-user answers ENOENT; the mapping it
     * fell inside stays, and its exact unmap still works.
     */
    @Test
    void dmaUnmapOffThePageSizeIsEinvalAndLeavesTheMappingAlone() throws Exception {
        try (RefusalLog log = new RefusalLog();
                Wire wire = negotiated()) {
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x2000));
            assertError(request(wire, DMA_UNMAP, dmaUnmap(0, 0x100800, 0x1000)), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("DMA_UNMAP", "address 0x100800", "page size 0x1000");
            assertError(request(wire, DMA_UNMAP, dmaUnmap(0, 0x100000, 0x1800)), Errno.EINVAL);
            assertThat(log.lastRefusal()).contains("DMA_UNMAP", "size 0x1800", "page size 0x1000");
            assertError(request(wire, DMA_MAP, dmaMap(0, 0x101000, 0x1000)), Errno.EEXIST);
            assertAnswered(wire, DMA_UNMAP, dmaUnmap(0, 0x100000, 0x2000));
        }
    }

    @Test
    void dmaMapPastTheEndOfItsFdIsEinval() throws Exception {
        try (Wire wire = negotiated();
                Fd memory = MemFd.create("conformance-dma", 0x2000)) {
            assertError(request(wire, DMA_MAP, dmaMap(0x1000, 0x100000, 0x2000), memory.get()), Errno.EINVAL);
            assertThat(Resources.mappings("conformance-dma")).isZero();
        }
    }

    @Test
    void dmaMapWhoseFdIsNoRegularFileIsNotMeasuredAndMaps() throws Exception {
        // a character device's size (0) bounds no mapping: /dev/zero maps as shared memory of any length
        try (Wire wire = negotiated();
                Fd zero = Fd.openReadWrite("/dev/zero")) {
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x2000), zero.get());
            byte[] written = {1, 2, 3, 4};
            server.context().dmaWrite(0x101000, written, 0, written.length);
            byte[] read = new byte[4];
            server.context().dmaRead(0x101000, read);
            assertThat(read).isEqualTo(written);
            assertAnswered(wire, DMA_UNMAP, dmaUnmap(0, 0x100000, 0x2000));
        }
    }

    @Test
    void dmaMapThatTheModelFailsIsEioAndLeavesNothingMapped() throws Exception {
        Path failingPath = dir.resolve("failing.sock");
        AtomicBoolean fail = new AtomicBoolean(true);
        DeviceModel model = model().onDmaMapped((iova, size, readable, writable) -> {
                    if (fail.getAndSet(false)) {
                        throw new IllegalStateException("the model cannot take a DMA window now");
                    }
                })
                .build();
        try (RefusalLog log = new RefusalLog();
                VfioUserServer failing = VfioUserServer.start(failingPath, model);
                Wire wire = negotiated(failingPath);
                Fd memory = MemFd.create("conformance-dma", 0x2000)) {
            assertError(request(wire, DMA_MAP, dmaMap(0, 0x100000, 0x2000), memory.get()), Errno.EIO);
            assertThat(log.lastRefusal())
                    .as("the model's failure, said to be the model's")
                    .contains("the device model failed: java.lang.IllegalStateException: the model cannot take");
            assertThat(Resources.mappings("conformance-dma"))
                    .as("the client's memory is not kept mapped")
                    .isZero();
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x2000), memory.get());
        }
    }

    /**
     * The window is gone once the server has withdrawn it, whatever the model said: the client hears
     * that the unmap happened (the entry echoed), so it may free that memory and map the range again.
     */
    @Test
    void dmaUnmapThatTheModelFailsIsStillAnsweredAsDone() throws Exception {
        Path failingPath = dir.resolve("failing.sock");
        DeviceModel model = model().onDmaUnmapped((iova, size) -> {
                    throw new IllegalStateException("the model trips over the unmap of 0x" + Long.toHexString(iova));
                })
                .build();
        try (VfioUserServer failing = VfioUserServer.start(failingPath, model);
                Wire wire = negotiated(failingPath);
                Fd memory = MemFd.create("conformance-dma", 0x2000)) {
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x2000), memory.get());
            Frame unmapped = assertAnswered(wire, DMA_UNMAP, dmaUnmap(0, 0x100000, 0x2000));
            assertThat(unmapped.body().getLong(8))
                    .as("the entry echoed: address")
                    .isEqualTo(0x100000);
            assertThat(Resources.mappings("conformance-dma"))
                    .as("the client's memory is unmapped")
                    .isZero();
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x2000), memory.get());
            assertAnswered(wire, DMA_UNMAP, dmaUnmap(2, 0, 0));
            assertThat(Resources.mappings("conformance-dma"))
                    .as("FLAG_ALL: unmapped too")
                    .isZero();
        }
    }

    @Test
    void dmaMapOverlappingAMappingIsEexist() throws Exception {
        try (Wire wire = negotiated()) {
            assertAnswered(wire, DMA_MAP, dmaMap(0, 0x100000, 0x2000));
            assertError(request(wire, DMA_MAP, dmaMap(0, 0x101000, 0x2000)), Errno.EEXIST);
        }
    }

    // --- chosen where libvfio-user and the kernel differ ---------------------------------------------

    @Test
    void deviceFeatureForAFeatureTheDeviceLacksIsEnotty() throws Exception {
        try (Wire wire = negotiated()) {
            int migrationGet = 1 | (1 << 16);
            byte[] migration = new Bytes().u32(64).u32(migrationGet).array();
            byte[] argszBelowItsStruct = new Bytes().u32(4).u32(migrationGet).array();
            assertError(request(wire, DEVICE_FEATURE, migration), Errno.ENOTTY);
            assertError(request(wire, DEVICE_FEATURE, argszBelowItsStruct), Errno.EINVAL);
        }
    }
}
