package io.jvfio.vfiouser.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.jvfio.sys.Errno;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.DeviceGoneException;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqAction;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.RegionIoEventFd;
import io.jvfio.vfio.VfioException;
import io.jvfio.vfiouser.client.ErrorReplyException;
import io.jvfio.vfiouser.client.VfioUserDevice;
import io.jvfio.vfiouser.conformance.Wire.Bytes;
import io.jvfio.vfiouser.conformance.Wire.Frame;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * jvfio's client against servers that answer as libvfio-user does, or break the specification: the
 * server end is a real socket that each test scripts frame by frame, so every reply is exactly the
 * bytes a reference server would send. docs/vfio-user-conformance.md lists the cases.
 */
class ClientConformanceTest {
    private static final int VERSION = 1;
    private static final int DMA_MAP = 2;
    private static final int DMA_UNMAP = 3;
    private static final int DEVICE_GET_INFO = 4;
    private static final int DMA_READ = 11;
    private static final int DEVICE_GET_REGION_INFO = 5;
    private static final int DEVICE_GET_REGION_IO_FDS = 6;
    private static final int DEVICE_SET_IRQS = 8;
    private static final int REGION_READ = 9;
    private static final int DEVICE_FEATURE = 16;
    /** libvfio-user's reply: the two capabilities it always names. */
    private static final String LIBVFIO_USER_CAPABILITIES =
            "{\"capabilities\":{\"max_msg_fds\":8," + "\"max_data_xfer_size\":1048576}}";

    private int fdsBefore;
    private Set<Thread> threadsBefore;

    @BeforeEach
    void count() {
        fdsBefore = Resources.openFds();
        threadsBefore = Resources.liveThreads();
    }

    @AfterEach
    void nothingLeaks() throws InterruptedException {
        assertThat(Resources.threadsStillAliveAfter(threadsBefore, Duration.ofSeconds(5)))
                .as("threads started by the test that are still alive")
                .isEmpty();
        assertThat(Resources.openFds()).as("fds back to where they were").isLessThanOrEqualTo(fdsBefore);
    }

    private static VfioUserDevice open(ScriptedServer server) throws Exception {
        return VfioUserDevice.open(
                server.clientEnd(),
                "scripted",
                VfioUserDevice.Options.defaults().withReplyTimeout(Duration.ofSeconds(3)));
    }

    private static byte[] versionBody(int major, int minor, byte[] json) {
        return new Bytes().u16(major).u16(minor).raw(json).array();
    }

    private static byte[] nulTerminated(String json) {
        return (json + "\0").getBytes(StandardCharsets.UTF_8);
    }

    private static void reply(Wire wire, Frame request, byte[] body, int... fds) throws Exception {
        wire.send(request.msgId(), request.command(), Wire.TYPE_REPLY, body, fds);
    }

    private static void errorReply(Wire wire, Frame request, int errno) throws Exception {
        wire.send(Wire.frame(request.msgId(), request.command(), Wire.TYPE_REPLY | Wire.ERROR, errno, new byte[0]));
    }

    /** Reads the client's VERSION and answers as libvfio-user: 0.2 and its two capabilities. */
    private static Frame answerVersion(Wire wire, String json) throws Exception {
        Frame version = wire.receive();
        assertThat(version.command()).isEqualTo(VERSION);
        reply(wire, version, versionBody(0, 2, nulTerminated(json)));
        return version;
    }

    /** Reads the client's VERSION and answers with a twin socket; returns the server's end of it. */
    private static Wire answerVersionWithTwinSocket(Wire wire) throws Exception {
        Frame version = expect(wire, VERSION);
        UnixSocket[] pair = UnixSocket.pair();
        // Only this process's fd goes: UnixSocket.close would shut the socket down for the client too.
        try (Fd clients = pair[1].fd()) {
            reply(
                    wire,
                    version,
                    versionBody(
                            0,
                            2,
                            nulTerminated("{\"capabilities\":{\"max_msg_fds\":8,"
                                    + "\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}")),
                    clients.get());
        }
        return new Wire(pair[0], Duration.ofSeconds(5));
    }

    private static Frame expect(Wire wire, int command) throws Exception {
        Frame request = wire.receive();
        assertThat(request).as("a request").isNotNull();
        assertThat(request.command()).as(request.toString()).isEqualTo(command);
        assertThat(request.isReply()).isFalse();
        return request;
    }

    // --- DEVICE_GET_REGION_INFO: the interop bug of issue #15, from the client's side -----------------

    /**
     * A region with 70 sparse areas needs argsz 1168, more than the client's first 1024: the server
     * answers as libvfio-user (the struct, no CAPS, no fd, argsz 1168) and the client asks again.
     */
    @Test
    void regionInfoCutShortWithoutCapsOrFdIsAskedForAgainWithTheArgszNeeded() throws Exception {
        int areas = 70;
        int needed = 32 + 8 + 8 + 16 * areas;
        try (Fd memory = MemFd.create("conformance-region", 0x1000L * areas);
                Mapping serverView = Mapping.map(memory, 0, 0x1000L * areas, true, "conformance server view")) {
            serverView.putLong(0x1000L * 69, 0x1234_5678_9ABC_DEF0L);
            try (ScriptedServer server = ScriptedServer.start(wire -> {
                        answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                        Frame first = expect(wire, DEVICE_GET_REGION_INFO);
                        int asked = first.body().getInt(0);
                        assertThat(asked).as("the client's first argsz").isLessThan(needed);
                        reply(
                                wire,
                                first,
                                new Bytes()
                                        .u32(needed)
                                        .u32(0x7)
                                        .u32(0)
                                        .u32(0)
                                        .u64(0x1000L * areas)
                                        .u64(0)
                                        .array());
                        Frame second = expect(wire, DEVICE_GET_REGION_INFO);
                        assertThat(second.body().getInt(0))
                                .as("asked again with what the server needs")
                                .isEqualTo(needed);
                        Bytes full = new Bytes()
                                .u32(needed)
                                .u32(0xF)
                                .u32(0)
                                .u32(32)
                                .u64(0x1000L * areas)
                                .u64(0)
                                .u16(1)
                                .u16(1)
                                .u32(0)
                                .u32(areas)
                                .u32(0);
                        for (int i = 0; i < areas; i++) {
                            full.u64(0x1000L * i).u64(0x1000);
                        }
                        reply(wire, second, full.array(), memory.get());
                    });
                    VfioUserDevice device = open(server)) {
                RegionInfo info = device.regionInfo(0);
                server.await();
                assertThat(info.mappable()).isTrue();
                assertThat(info.mappableAreas()).hasSize(areas);
                try (Mapping mapped = device.map(0, 0x1000L * 69, 0x1000)) {
                    assertThat(mapped.read(0, 8))
                            .as("the fd of the second reply maps the region")
                            .isEqualTo(0x1234_5678_9ABC_DEF0L);
                }
            }
        }
    }

    @Test
    void regionInfoWithCapsAndACapOffsetInsideTheStructIsRefused() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    Frame request = expect(wire, DEVICE_GET_REGION_INFO);
                    reply(
                            wire,
                            request,
                            new Bytes()
                                    .u32(32)
                                    .u32(0xB)
                                    .u32(0)
                                    .u32(0)
                                    .u64(0x1000)
                                    .u64(0)
                                    .array());
                });
                VfioUserDevice device = open(server)) {
            assertThatThrownBy(() -> device.regionInfo(0))
                    .isInstanceOf(VfioException.class)
                    .hasMessageContaining("cap_offset 0");
            server.await();
        }
    }

    // --- VERSION ---------------------------------------------------------------------------------------

    @Test
    void versionProposesEveryCapabilityAndTakesDefaultsForThoseTheServerLeavesOut() throws Exception {
        try (EventFd one = EventFd.create();
                EventFd two = EventFd.create();
                ScriptedServer server = ScriptedServer.start(wire -> {
                    Frame version = expect(wire, VERSION);
                    ByteBuffer body = version.body();
                    assertThat(body.get(body.limit() - 1))
                            .as("the proposal's JSON ends with a NUL")
                            .isZero();
                    byte[] json = new byte[body.limit() - 5];
                    body.get(4, json);
                    JsonObject proposed = JsonParser.parseString(new String(json, StandardCharsets.UTF_8))
                            .getAsJsonObject()
                            .getAsJsonObject("capabilities");
                    assertThat(proposed.keySet())
                            .containsExactlyInAnyOrder(
                                    "max_msg_fds", "max_data_xfer_size", "max_dma_maps", "pgsizes", "twin_socket");
                    assertThat(proposed.getAsJsonObject("twin_socket")
                                    .get("supported")
                                    .getAsBoolean())
                            .isTrue();
                    reply(wire, version, versionBody(0, 2, nulTerminated("{\"capabilities\":{}}")));
                    for (int i = 0; i < 2; i++) {
                        Frame set = expect(wire, DEVICE_SET_IRQS);
                        set.closeFds();
                        assertThat(set.fds())
                                .as("max_msg_fds left out: 1, the default")
                                .hasSize(1);
                        assertThat(set.body().getInt(12)).as("start").isEqualTo(i);
                        reply(wire, set, new byte[0]);
                    }
                });
                VfioUserDevice device = open(server)) {
            assertThat(device.serverCapabilityNames())
                    .as("the reply named none")
                    .isEmpty();
            assertThat(device.serverCapabilities().maxMsgFds()).isEqualTo(1);
            device.setIrqs(new IrqSet(
                    0, IrqAction.TRIGGER, 0, 2, new IrqSet.Data.EventFds(List.of(Optional.of(one), Optional.of(two)))));
            server.await();
        }
    }

    @Test
    void versionReplyWithAnotherMajorFailsTheConnectAndClosesTheSocket() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
            Frame version = expect(wire, VERSION);
            reply(wire, version, versionBody(1, 0, nulTerminated(LIBVFIO_USER_CAPABILITIES)));
            assertThat(wire.peerClosed()).as("the client closed the connection").isTrue();
        })) {
            assertThatThrownBy(() -> open(server))
                    .isInstanceOf(VfioException.class)
                    .hasMessageContaining("1.0");
            server.await();
        }
    }

    @Test
    void versionReplyWithoutItsNulFailsTheConnect() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
            Frame version = expect(wire, VERSION);
            reply(wire, version, versionBody(0, 2, LIBVFIO_USER_CAPABILITIES.getBytes(StandardCharsets.UTF_8)));
            assertThat(wire.peerClosed()).isTrue();
        })) {
            assertThatThrownBy(() -> open(server))
                    .isInstanceOf(VfioException.class)
                    .hasMessageContaining("NUL");
            server.await();
        }
    }

    /**
     * A server that enables twin-socket mode, as libvfio-user does for a client that proposes it: the
     * client answers the server's DMA requests on the socket handed over, not on the main one.
     */
    @Test
    void twinSocketFromTheServerCarriesItsDmaRequestsAndTheirAnswers() throws Exception {
        try (Mapping guest = Mapping.anonymous(0x1000, "conformance guest");
                ScriptedServer server = ScriptedServer.start(wire -> {
                    try (Wire twin = answerVersionWithTwinSocket(wire)) {
                        Frame map = expect(wire, 2);
                        reply(wire, map, new byte[0]);
                        twin.send(0x51, 11, 0, new Bytes().u64(0x400000).u64(8).array());
                        Frame answer = twin.receive();
                        assertThat(answer.msgId()).isEqualTo(0x51);
                        assertThat(answer.isReply() && !answer.isError())
                                .as(answer.toString())
                                .isTrue();
                        assertThat(answer.body().getLong(16))
                                .as("the guest's bytes")
                                .isEqualTo(0x1122334455667788L);
                    }
                });
                VfioUserDevice device = open(server)) {
            guest.putLong(0, 0x1122334455667788L);
            device.mapDma(new DmaRegion(0x400000, 0x1000, guest, 0, null, 0, true, true));
            server.await();
        }
    }

    /**
     * A server whose twin socket ends in the middle of a DMA request: the device is gone, as when the twin
     * socket closes between messages, and the client closes the main socket; its DMA requests would
     * otherwise go unanswered from then on while the device looked well.
     */
    /**
     * A DMA_UNMAP the server refuses still withdraws the window: the caller frees that memory next, and
     * the server's later DMA requests into it must be refused, not served from it.
     */
    @Test
    void aDmaUnmapTheServerRefusesStillWithdrawsTheWindowFromItsDmaRequests() throws Exception {
        CountDownLatch unmapReturned = new CountDownLatch(1);
        try (Mapping guest = Mapping.anonymous(0x1000, "conformance guest");
                ScriptedServer server = ScriptedServer.start(wire -> {
                    try (Wire twin = answerVersionWithTwinSocket(wire)) {
                        reply(wire, expect(wire, DMA_MAP), new byte[0]);
                        errorReply(wire, expect(wire, DMA_UNMAP), Errno.EINVAL);
                        // The two sockets keep no order between them: asked before the call has its reply,
                        // the window is rightly still served.
                        assertThat(unmapReturned.await(5, TimeUnit.SECONDS)).isTrue();
                        twin.send(
                                0x52,
                                DMA_READ,
                                0,
                                new Bytes().u64(0x400000).u64(8).array());
                        Frame answer = twin.receive();
                        assertThat(answer.msgId()).isEqualTo(0x52);
                        assertThat(answer.isError()).as(answer.toString()).isTrue();
                    }
                });
                VfioUserDevice device = open(server)) {
            device.mapDma(new DmaRegion(0x400000, 0x1000, guest, 0, null, 0, true, true));
            assertThatThrownBy(() -> device.unmapDma(0x400000, 0x1000)).isInstanceOf(ErrorReplyException.class);
            unmapReturned.countDown();
            server.await();
        }
    }

    @Test
    void twinSocketClosedInTheMiddleOfAMessageMakesTheDeviceGone() throws Exception {
        CompletableFuture<DeviceGoneException> gone = new CompletableFuture<>();
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    try (Wire twin = answerVersionWithTwinSocket(wire)) {
                        byte[] dmaRead = Wire.frame(
                                0x51, 11, 0, 0, new Bytes().u64(0x400000).u64(8).array());
                        twin.send(Arrays.copyOf(dmaRead, 20));
                    }
                    assertThat(wire.peerClosed())
                            .as("the client closes the main socket of a device that is gone")
                            .isTrue();
                });
                VfioUserDevice device = open(server)) {
            device.onGone(gone::complete);
            assertThat(gone.get(5, TimeUnit.SECONDS))
                    .hasMessageStartingWith("vfio scripted: device is gone: ")
                    .hasMessageContaining("twin socket")
                    .hasMessageContaining("in the middle of a message");
            assertThatThrownBy(device::info).isInstanceOf(DeviceGoneException.class);
            server.await();
        }
    }

    @Test
    void twinSocketSupportedWithoutAnFdIndexFailsTheConnect() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
            Frame version = expect(wire, VERSION);
            reply(
                    wire,
                    version,
                    versionBody(0, 2, nulTerminated("{\"capabilities\":{\"twin_socket\":" + "{\"supported\":true}}}")));
            assertThat(wire.peerClosed())
                    .as("the specification: the client must abort and close")
                    .isTrue();
        })) {
            assertThatThrownBy(() -> open(server))
                    .isInstanceOf(VfioException.class)
                    .hasMessageContaining("twin_socket");
            server.await();
        }
    }

    // --- framing and server-to-client commands ----------------------------------------------------------

    @Test
    void unknownCommandFromTheServerIsAnsweredWithEinval() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    wire.send(0x99, 999, 0, new byte[8]);
                    Frame answer = wire.receive();
                    assertThat(answer.msgId()).isEqualTo(0x99);
                    assertThat(answer.isReply() && answer.isError())
                            .as(answer.toString())
                            .isTrue();
                    assertThat(answer.size()).isEqualTo(Wire.HEADER);
                    assertThat(Errno.name(answer.error())).isEqualTo("EINVAL");
                });
                VfioUserDevice device = open(server)) {
            server.await();
        }
    }

    @Test
    void unsolicitedReplyFromTheServerIsDroppedAndTheCallGetsItsOwn() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    Frame read = expect(wire, REGION_READ);
                    wire.send(
                            (read.msgId() + 100) & 0xFFFF,
                            REGION_READ,
                            Wire.TYPE_REPLY,
                            new Bytes().u64(0).u32(0).u32(4).u32(0xBAD).array());
                    reply(
                            wire,
                            read,
                            new Bytes().u64(0).u32(0).u32(4).u32(0x600D).array());
                });
                VfioUserDevice device = open(server)) {
            assertThat(device.read(0, 0, 4)).isEqualTo(0x600D);
            server.await();
        }
    }

    /**
     * The client reads a region access's reply with recv(2), which takes no fds: an fd a server
     * attaches anyway is closed by the kernel (the base class checks that the client's fd count is back
     * where it was), and the reply and the next one are read as they should be.
     */
    @Test
    void anFdAttachedToARegionReadReplyIsClosedAndTheReplyRead() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    try (EventFd stray = EventFd.create()) {
                        reply(
                                wire,
                                expect(wire, REGION_READ),
                                new Bytes().u64(0).u32(0).u32(4).u32(0x600D).array(),
                                stray.fd().get());
                    }
                    reply(
                            wire,
                            expect(wire, REGION_READ),
                            new Bytes().u64(0).u32(0).u32(4).u32(0xF00D).array());
                });
                VfioUserDevice device = open(server)) {
            assertThat(device.read(0, 0, 4)).isEqualTo(0x600D);
            assertThat(device.read(0, 0, 4)).isEqualTo(0xF00D);
            server.await();
        }
    }

    /**
     * A reply that brings an fd, followed in the same read by a header too short to be a message: the
     * device is gone, and the reply's fd goes with it (the base class checks the fd count).
     */
    @Test
    void theFdOfAReplyFollowedByAMalformedMessageIsClosed() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    Frame info = expect(wire, DEVICE_GET_REGION_INFO);
                    byte[] reply = Wire.frame(
                            info.msgId(),
                            info.command(),
                            Wire.TYPE_REPLY,
                            0,
                            new Bytes()
                                    .u32(32)
                                    .u32(0x7)
                                    .u32(0)
                                    .u32(0)
                                    .u64(0x1000)
                                    .u64(0)
                                    .array());
                    try (Fd region = MemFd.create("scripted-region", 0x1000)) {
                        wire.send(Arrays.copyOf(reply, 10), region.get());
                    }
                    byte[] tooShort = new Bytes()
                            .u16(1)
                            .u16(REGION_READ)
                            .u32(8)
                            .u32(0)
                            .u32(0)
                            .array();
                    byte[] rest = Arrays.copyOf(
                            Arrays.copyOfRange(reply, 10, reply.length), reply.length - 10 + tooShort.length);
                    System.arraycopy(tooShort, 0, rest, reply.length - 10, tooShort.length);
                    wire.send(rest);
                });
                VfioUserDevice device = open(server)) {
            assertThatThrownBy(() -> device.regionInfo(0)).isInstanceOf(DeviceGoneException.class);
            server.await();
        }
    }

    /**
     * A server that sends DMA_READs of 1 MiB and then reads nothing more: the client's answer finds no
     * room in the socket, and the send ends after the reply timeout with the device gone, where it held
     * the link, and a vCPU's call waiting behind it, for good.
     */
    @Test
    void aServerThatStopsReadingMakesTheDeviceGoneWithinTheReplyTimeout() throws Exception {
        int mib = 1 << 20;
        CompletableFuture<Void> mapped = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        try (Mapping guest = Mapping.anonymous(mib, "scripted guest RAM");
                ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    Frame map = expect(wire, DMA_MAP);
                    map.closeFds();
                    reply(wire, map, new byte[0]);
                    mapped.get(1, TimeUnit.MINUTES);
                    for (int msgId = 100; msgId < 104; msgId++) {
                        wire.send(
                                msgId,
                                DMA_READ,
                                0,
                                new Bytes().u64(0x10_0000).u64(mib).array());
                    }
                    release.get(1, TimeUnit.MINUTES);
                });
                VfioUserDevice device = VfioUserDevice.open(
                        server.clientEnd(),
                        "scripted",
                        VfioUserDevice.Options.defaults().withReplyTimeout(Duration.ofSeconds(1)))) {
            try {
                device.mapDma(new DmaRegion(0x10_0000, mib, guest, 0, null, 0, true, true));
                mapped.complete(null);
                CompletableFuture<Throwable> access = new CompletableFuture<>();
                Thread vcpu = Thread.ofPlatform().name("scripted vcpu").start(() -> {
                    try {
                        device.read(0, 0, 4);
                        access.complete(null);
                    } catch (Throwable t) {
                        access.complete(t);
                    }
                });
                // gone for the failed answer, or timed out when the access itself was answering when the
                // reply timeout shut the connection: either way within the timeout, not blocked for good
                assertThat(access.get(10, TimeUnit.SECONDS))
                        .as("the region access, with the reply timeout at 1 s")
                        .isInstanceOf(DeviceGoneException.class);
                vcpu.join();
                release.complete(null);
                server.await();
            } finally {
                mapped.complete(null);
                release.complete(null);
            }
        }
    }

    /**
     * A mappable region whose fd is shorter than the region: mapping past the fd's end is refused in words
     * (a guest access there would fault), and what the fd holds maps.
     */
    @Test
    void aMappingPastTheEndOfTheServersFdIsRefused() throws Exception {
        try (Fd memory = MemFd.create("short region", 0x1000);
                ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    reply(
                            wire,
                            expect(wire, DEVICE_GET_REGION_INFO),
                            new Bytes()
                                    .u32(32)
                                    .u32(0x7)
                                    .u32(0)
                                    .u32(0)
                                    .u64(0x2000)
                                    .u64(0)
                                    .array(),
                            memory.get());
                });
                VfioUserDevice device = open(server)) {
            device.regionInfo(0);
            server.await();
            assertThatThrownBy(() -> device.map(0, 0, 0x2000))
                    .isInstanceOf(VfioException.class)
                    .hasMessageContaining("the server's fd holds 0x1000 bytes, short of the 0x2000");
            try (Mapping mapped = device.map(0, 0, 0x1000)) {
                assertThat(mapped.size()).isEqualTo(0x1000);
            }
        }
    }

    /** A server declaring a million regions is refused at DEVICE_GET_INFO, before a round trip for each. */
    @Test
    void deviceInfoWithMoreRegionsThanAClientAcceptsIsRefused() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    reply(
                            wire,
                            expect(wire, DEVICE_GET_INFO),
                            new Bytes().u32(16).u32(0).u32(1_000_000).u32(1).array());
                });
                VfioUserDevice device = open(server)) {
            assertThatThrownBy(device::info)
                    .isInstanceOf(VfioException.class)
                    .hasMessageContaining("declares 1000000 regions and 1 IRQ indexes, more than the 100 and 50");
            server.await();
        }
    }

    @Test
    void errorReplyBecomesTheCallsErrnoAndTheConnectionStaysUsable() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    errorReply(wire, expect(wire, REGION_READ), Errno.EINVAL);
                    reply(
                            wire,
                            expect(wire, REGION_READ),
                            new Bytes().u64(0).u32(0).u32(4).u32(7).array());
                });
                VfioUserDevice device = open(server)) {
            assertThatThrownBy(() -> device.read(0, 0, 4))
                    .isInstanceOf(ErrorReplyException.class)
                    .satisfies(
                            e -> assertThat(((ErrorReplyException) e).errno()).isEqualTo(Errno.EINVAL));
            assertThat(device.read(0, 0, 4)).isEqualTo(7);
            server.await();
        }
    }

    @Test
    void headerClaimingMoreThanTheLimitMakesTheDeviceGone() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    Frame read = expect(wire, REGION_READ);
                    wire.send(new Bytes()
                            .u16(read.msgId())
                            .u16(REGION_READ)
                            .u32(0xFFFFFFFFL)
                            .u32(Wire.TYPE_REPLY)
                            .u32(0)
                            .array());
                });
                VfioUserDevice device = open(server)) {
            assertThatThrownBy(() -> device.read(0, 0, 4))
                    .isInstanceOf(DeviceGoneException.class)
                    .hasMessageContaining("exceeds the limit");
            server.await();
        }
    }

    // --- DEVICE_FEATURE -----------------------------------------------------------------------------------

    @Test
    void deviceFeatureAnsweredWithEnottyOrEinvalMeansNoIdentity() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    errorReply(wire, expect(wire, DEVICE_FEATURE), Errno.ENOTTY);
                    errorReply(wire, expect(wire, DEVICE_FEATURE), Errno.EINVAL);
                });
                VfioUserDevice device = open(server)) {
            assertThat(device.deviceTreeIdentity()).as("jvfio's server: ENOTTY").isEmpty();
            assertThat(device.deviceTreeIdentity()).as("libvfio-user: EINVAL").isEmpty();
            server.await();
        }
    }

    // --- DEVICE_GET_REGION_IO_FDS -----------------------------------------------------------------------

    /** Region 0 as a callbacks region of 0x200 bytes: readable, writable, no mmap, no capabilities. */
    private static void answerRegionInfo(Wire wire) throws Exception {
        Frame request = expect(wire, DEVICE_GET_REGION_INFO);
        reply(
                wire,
                request,
                new Bytes().u32(32).u32(0x3).u32(0).u32(0).u64(0x200).u64(0).array());
    }

    private static Bytes ioFdEntry(Bytes bytes, long offset, long size, int fdIndex, int type, int flags, long data) {
        return bytes.u64(offset)
                .u64(size)
                .u32(fdIndex)
                .u32(type)
                .u32(flags)
                .u32(0)
                .u64(data);
    }

    /**
     * Two ioeventfd entries sharing fd 0 and an ioregionfd entry on fd 1: the client keeps the two, each
     * with an eventfd of its own (the shared one duplicated), leaves the ioregionfd out and closes its fd.
     */
    @Test
    void regionIoFdsFromTheServerAreKeptOneEventfdPerEntry() throws Exception {
        try (EventFd shared = EventFd.create();
                EventFd ioregion = EventFd.create();
                ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    answerRegionInfo(wire);
                    Frame request = expect(wire, DEVICE_GET_REGION_IO_FDS);
                    assertThat(request.body().getInt(8))
                            .as("the region asked about")
                            .isZero();
                    Bytes body = new Bytes().u32(16 + 3 * 40).u32(0).u32(0).u32(3);
                    ioFdEntry(body, 0x50, 4, 0, 0, 1, 0);
                    ioFdEntry(body, 0x50, 4, 0, 0, 1, 1);
                    ioFdEntry(body, 0x60, 4, 1, 1, 0, 0);
                    reply(
                            wire,
                            request,
                            body.array(),
                            shared.fd().get(),
                            ioregion.fd().get());
                });
                VfioUserDevice device = open(server)) {
            List<RegionIoEventFd> kept = device.regionIoEventFds(0);
            server.await();
            try {
                assertThat(kept).extracting(RegionIoEventFd::offset).containsExactly(0x50L, 0x50L);
                assertThat(kept).extracting(RegionIoEventFd::size).containsExactly(4, 4);
                assertThat(kept)
                        .extracting(RegionIoEventFd::datamatch)
                        .containsExactly(OptionalLong.of(0), OptionalLong.of(1));
                assertThat(kept.get(0).eventFd().fd().get())
                        .as("each entry its own fd")
                        .isNotEqualTo(kept.get(1).eventFd().fd().get());
                kept.get(1).eventFd().signal();
                assertThat(shared.read())
                        .as("both are the server's one eventfd")
                        .isEqualTo(1);
            } finally {
                kept.forEach(RegionIoEventFd::close);
            }
        }
    }

    @Test
    void regionIoFdsRefusedWithEinvalMeanNone() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    answerRegionInfo(wire);
                    errorReply(wire, expect(wire, DEVICE_GET_REGION_IO_FDS), Errno.EINVAL);
                });
                VfioUserDevice device = open(server)) {
            assertThat(device.regionIoEventFds(0)).isEmpty();
            server.await();
        }
    }

    /** One bad entry, after a good one: the call fails naming the entry, and no fd of the reply stays open. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "fd_index past the fds | 0x50 | 4 | 1 | 0 | 1 | entry 1: fd_index 1 but the reply carries 1 fds",
                "the port space        | 0x50 | 4 | 0 | 0 | 3 | entry 1: flags 0x3 (a platform device's regions are MMIO",
                "an unknown type       | 0x50 | 4 | 0 | 7 | 1 | entry 1: unknown type 7",
                "a size of 3           | 0x50 | 3 | 0 | 0 | 1 | entry 1: size 3 (1, 2, 4 or 8 bytes",
                "past the region       | 0x1fe | 4 | 0 | 0 | 1 | entry 1: [0x1fe, +4) lies outside the region's 0x200 bytes",
            })
    void malformedRegionIoFdsRepliesGetOneLineNamingTheEntry(
            String what, String offset, long size, int fdIndex, int type, int flags, String message) throws Exception {
        try (EventFd offered = EventFd.create();
                ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    answerRegionInfo(wire);
                    Frame request = expect(wire, DEVICE_GET_REGION_IO_FDS);
                    Bytes body = new Bytes().u32(16 + 2 * 40).u32(0).u32(0).u32(2);
                    ioFdEntry(body, 0x50, 4, 0, 0, 1, 0);
                    ioFdEntry(body, Long.decode(offset), size, fdIndex, type, flags, 1);
                    reply(wire, request, body.array(), offered.fd().get());
                });
                VfioUserDevice device = open(server)) {
            assertThatThrownBy(() -> device.regionIoEventFds(0))
                    .as(what)
                    .isInstanceOf(VfioException.class)
                    .hasMessageStartingWith("vfio scripted: DEVICE_GET_REGION_IO_FDS of region 0: malformed reply: ")
                    .hasMessageContaining(message)
                    .message()
                    .doesNotContain("\n");
            server.await();
        }
    }

    /**
     * An ioeventfd entry whose fd is no eventfd (a socket, a memfd): the call fails naming the entry and
     * what its fd is, instead of handing KVM something it would refuse as an ioeventfd.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"a socket, socket:[", "a memfd, /memfd:"})
    void regionIoFdsWhoseFdIsNoEventfdGetOneLineNamingTheEntry(String what, String kind) throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (EventFd offered = EventFd.create();
                Fd memfd = MemFd.create("not an eventfd", 0x1000);
                ScriptedServer server = ScriptedServer.start(wire -> {
                    answerVersion(wire, LIBVFIO_USER_CAPABILITIES);
                    answerRegionInfo(wire);
                    Frame request = expect(wire, DEVICE_GET_REGION_IO_FDS);
                    Bytes body = new Bytes().u32(16 + 2 * 40).u32(0).u32(0).u32(2);
                    ioFdEntry(body, 0x50, 4, 0, 0, 1, 0);
                    ioFdEntry(body, 0x60, 4, 1, 0, 1, 1);
                    int wrongKind = what.equals("a socket") ? pair[0].fd().get() : memfd.get();
                    reply(wire, request, body.array(), offered.fd().get(), wrongKind);
                });
                VfioUserDevice device = open(server)) {
            assertThatThrownBy(() -> device.regionIoEventFds(0))
                    .as(what)
                    .isInstanceOf(VfioException.class)
                    .hasMessageStartingWith("vfio scripted: DEVICE_GET_REGION_IO_FDS of region 0: malformed reply: ")
                    .hasMessageContaining("entry 1: fd_index 1 is no eventfd but " + kind)
                    .message()
                    .doesNotContain("\n");
            server.await();
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }
}
