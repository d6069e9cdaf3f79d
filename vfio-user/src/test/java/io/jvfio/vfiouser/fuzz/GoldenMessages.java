package io.jvfio.vfiouser.fuzz;

import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.Bytes;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.Codec;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.Payload;
import io.jvfio.vfiouser.PlatformExtension;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Valid vfio-user messages of every command, both directions, built with the module's own codec: the
 * corpus the fuzzers mutate. Requests are aimed at {@link FuzzDevice} (its regions, IRQs and DMA
 * window) so that, unmutated, each one succeeds against the fuzzed server.
 */
public final class GoldenMessages {
    /** Which fds a message travels with when sent to a server. */
    public enum Fds {
        NONE,
        MEMFD,
        EVENTFD,
        TWO_EVENTFDS
    }

    /** One golden message: its bytes, whether a client sends it, and the fds it goes with. */
    public record Golden(String name, byte[] bytes, boolean clientRequest, Fds fds) {}

    /** The DMA window the golden DMA_MAP requests: IOVA and size (and the size of the memfd sent along). */
    public static final long DMA_IOVA = 0x100000;

    public static final long DMA_SIZE = 0x4000;

    private static final int IRQ_MASK = 1 << 3;
    private static final int IRQ_UNMASK = 1 << 4;
    private static final int IRQ_TRIGGER = 1 << 5;

    private GoldenMessages() {}

    private static Golden request(String name, int command, Payload payload, Fds fds) {
        return new Golden(name, Codec.encode(1, command, Header.TYPE_COMMAND, 0, payload), true, fds);
    }

    private static Golden reply(String name, int command, Payload payload) {
        return new Golden(name + " reply", Codec.encode(1, command, Header.TYPE_REPLY, 0, payload), false, Fds.NONE);
    }

    /** Every golden message. */
    public static List<Golden> all() {
        List<Golden> all = new ArrayList<>();
        Capabilities caps = new Capabilities(4, 4096, 16, 4096);
        all.add(request("VERSION", Command.VERSION, new Payload.Version(0, 2, caps), Fds.NONE));
        all.add(reply("VERSION", Command.VERSION, new Payload.Version(0, 2, Capabilities.defaults())));
        all.add(request("DMA_MAP fd", Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, DMA_IOVA, DMA_SIZE), Fds.MEMFD));
        all.add(request(
                "DMA_MAP messages", Command.DMA_MAP, new Payload.DmaMap(32, 1, 0, 2 * DMA_IOVA, 0x1000), Fds.NONE));
        all.add(reply("DMA_MAP", Command.DMA_MAP, Payload.Empty.INSTANCE));
        all.add(request("DMA_UNMAP", Command.DMA_UNMAP, new Payload.DmaUnmap(24, 0, DMA_IOVA, DMA_SIZE), Fds.NONE));
        all.add(reply("DMA_UNMAP", Command.DMA_UNMAP, new Payload.DmaUnmap(24, 0, DMA_IOVA, DMA_SIZE)));
        all.add(request("DEVICE_GET_INFO", Command.DEVICE_GET_INFO, new Payload.DeviceGetInfo(16, 0, 0, 0), Fds.NONE));
        all.add(reply("DEVICE_GET_INFO", Command.DEVICE_GET_INFO, new Payload.DeviceGetInfo(16, 3, 3, 2)));
        for (int region = 0; region < 3; region++) {
            all.add(request(
                    "DEVICE_GET_REGION_INFO " + region,
                    Command.DEVICE_GET_REGION_INFO,
                    Payload.DeviceGetRegionInfo.request(1024, region),
                    Fds.NONE));
        }
        List<Payload.Capability> sparse = List.of(
                Codec.sparseMmapCapability(List.of(new SparseArea(0x1000, 0x1000), new SparseArea(0x3000, 0x2000))));
        all.add(reply(
                "DEVICE_GET_REGION_INFO sparse",
                Command.DEVICE_GET_REGION_INFO,
                new Payload.DeviceGetRegionInfo(32 + 8 + 8 + 32, 0xF, 2, 0x3000, 0, sparse)));
        List<Payload.Capability> two = List.of(
                new Payload.Capability(2, 1, Bytes.copyOf(new byte[8])),
                Codec.sparseMmapCapability(List.of(new SparseArea(0, 0x1000))));
        Payload.DeviceGetRegionInfo chained = new Payload.DeviceGetRegionInfo(0, 0xF, 1, 0x2000, 0, two);
        all.add(reply(
                "DEVICE_GET_REGION_INFO chained",
                Command.DEVICE_GET_REGION_INFO,
                new Payload.DeviceGetRegionInfo(chained.fullSize(), 0xF, 1, 0x2000, 0, two)));
        all.add(reply(
                "DEVICE_GET_REGION_INFO cut short",
                Command.DEVICE_GET_REGION_INFO,
                new Payload.DeviceGetRegionInfo(200, 0xF, 1, 0x2000, 0, List.of())));
        all.add(request(
                "DEVICE_GET_REGION_IO_FDS",
                Command.DEVICE_GET_REGION_IO_FDS,
                new Payload.RegionIoFdsRequest(1024, 0, 0, 0),
                Fds.NONE));
        List<Payload.IoFdEntry> entries =
                List.of(new Payload.IoFdEntry(0, 4, 0, 0, 0, 7), new Payload.IoFdEntry(8, 8, 1, 1, 0, 9));
        all.add(reply(
                "DEVICE_GET_REGION_IO_FDS",
                Command.DEVICE_GET_REGION_IO_FDS,
                Payload.RegionIoFdsReply.of(0, 0, entries)));
        all.add(reply(
                "DEVICE_GET_REGION_IO_FDS stride 48",
                Command.DEVICE_GET_REGION_IO_FDS,
                new Payload.RegionIoFdsReply(16 + 48 * 2, 0, 0, 2, entries)));
        all.add(reply(
                "DEVICE_GET_REGION_IO_FDS empty",
                Command.DEVICE_GET_REGION_IO_FDS,
                new Payload.RegionIoFdsReply(16, 0, 0, 0, List.of())));
        all.add(request(
                "DEVICE_GET_IRQ_INFO",
                Command.DEVICE_GET_IRQ_INFO,
                new Payload.DeviceGetIrqInfo(16, 0, 1, 0),
                Fds.NONE));
        all.add(reply("DEVICE_GET_IRQ_INFO", Command.DEVICE_GET_IRQ_INFO, new Payload.DeviceGetIrqInfo(16, 0xF, 1, 1)));
        all.add(request(
                "DEVICE_SET_IRQS trigger eventfd",
                Command.DEVICE_SET_IRQS,
                Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | IRQ_TRIGGER, 0, 0, 1, Bytes.EMPTY),
                Fds.EVENTFD));
        all.add(request(
                "DEVICE_SET_IRQS two eventfds",
                Command.DEVICE_SET_IRQS,
                Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | IRQ_TRIGGER, 0, 0, 2, Bytes.EMPTY),
                Fds.TWO_EVENTFDS));
        all.add(request(
                "DEVICE_SET_IRQS unmask eventfd",
                Command.DEVICE_SET_IRQS,
                Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | IRQ_UNMASK, 1, 0, 1, Bytes.EMPTY),
                Fds.EVENTFD));
        all.add(request(
                "DEVICE_SET_IRQS mask bool",
                Command.DEVICE_SET_IRQS,
                Payload.DeviceSetIrqs.of(IrqSet.DATA_BOOL | IRQ_MASK, 0, 0, 2, Bytes.copyOf(new byte[] {1, 0})),
                Fds.NONE));
        all.add(request(
                "DEVICE_SET_IRQS unmask none",
                Command.DEVICE_SET_IRQS,
                Payload.DeviceSetIrqs.of(IrqSet.DATA_NONE | IRQ_UNMASK, 1, 0, 1, Bytes.EMPTY),
                Fds.NONE));
        all.add(request(
                "DEVICE_SET_IRQS disable",
                Command.DEVICE_SET_IRQS,
                Payload.DeviceSetIrqs.of(IrqSet.DATA_NONE | IRQ_TRIGGER, 0, 0, 0, Bytes.EMPTY),
                Fds.NONE));
        all.add(reply("DEVICE_SET_IRQS", Command.DEVICE_SET_IRQS, Payload.Empty.INSTANCE));
        for (int size : new int[] {1, 2, 4, 8}) {
            all.add(request(
                    "REGION_READ registers " + size,
                    Command.REGION_READ,
                    Payload.RegionAccess.of(0, 0, size),
                    Fds.NONE));
        }
        all.add(request("REGION_READ shared", Command.REGION_READ, Payload.RegionAccess.of(0x100, 1, 64), Fds.NONE));
        all.add(request("REGION_READ trapped", Command.REGION_READ, Payload.RegionAccess.of(0x20, 2, 4), Fds.NONE));
        Bytes oneToFour = Bytes.copyOf(new byte[] {1, 2, 3, 4});
        all.add(reply("REGION_READ", Command.REGION_READ, Payload.RegionAccess.withData(0, 0, oneToFour)));
        all.add(request(
                "REGION_WRITE scratch",
                Command.REGION_WRITE,
                Payload.RegionAccess.withData(0, 0, Bytes.copyOf(new byte[] {1, 2, 3, 4, 5, 6, 7, 8})),
                Fds.NONE));
        all.add(request(
                "REGION_WRITE pulse",
                Command.REGION_WRITE,
                Payload.RegionAccess.withData(FuzzDevice.PULSE, 0, Bytes.copyOf(new byte[] {1, 0, 0, 0})),
                Fds.NONE));
        all.add(request(
                "REGION_WRITE level",
                Command.REGION_WRITE,
                Payload.RegionAccess.withData(FuzzDevice.LEVEL, 0, Bytes.copyOf(new byte[] {1, 0, 0, 0})),
                Fds.NONE));
        all.add(request(
                "REGION_WRITE dma address",
                Command.REGION_WRITE,
                Payload.RegionAccess.withData(FuzzDevice.DMA_ADDRESS, 0, Bytes.littleEndian(DMA_IOVA + 0x10, 8)),
                Fds.NONE));
        all.add(request(
                "REGION_WRITE dma length",
                Command.REGION_WRITE,
                Payload.RegionAccess.withData(FuzzDevice.DMA_LENGTH, 0, Bytes.littleEndian(16, 8)),
                Fds.NONE));
        all.add(request(
                "REGION_WRITE dma go",
                Command.REGION_WRITE,
                Payload.RegionAccess.withData(FuzzDevice.DMA_GO, 0, Bytes.copyOf(new byte[] {1, 0, 0, 0})),
                Fds.NONE));
        all.add(request(
                "REGION_WRITE shared bulk",
                Command.REGION_WRITE,
                Payload.RegionAccess.withData(0x10, 1, Bytes.copyOf(new byte[100])),
                Fds.NONE));
        all.add(request(
                "REGION_WRITE trapped",
                Command.REGION_WRITE,
                Payload.RegionAccess.withData(0x2000, 2, Bytes.copyOf(new byte[] {9, 9})),
                Fds.NONE));
        all.add(reply("REGION_WRITE", Command.REGION_WRITE, Payload.RegionAccess.of(0, 0, 4)));
        all.add(new Golden(
                "DMA_READ request",
                Codec.encode(1, Command.DMA_READ, 0, 0, Payload.DmaAccess.of(DMA_IOVA, 16)),
                false,
                Fds.NONE));
        all.add(reply("DMA_READ", Command.DMA_READ, new Payload.DmaAccess(DMA_IOVA, 4, oneToFour)));
        all.add(new Golden(
                "DMA_WRITE request",
                Codec.encode(1, Command.DMA_WRITE, 0, 0, new Payload.DmaAccess(DMA_IOVA, 4, oneToFour)),
                false,
                Fds.NONE));
        all.add(reply("DMA_WRITE", Command.DMA_WRITE, Payload.DmaAccess.of(DMA_IOVA, 4)));
        ByteBuffer shortWriteReply = ByteBuffer.allocate(Header.SIZE + 12).order(Codec.ORDER);
        new Header(1, Command.DMA_WRITE, Header.SIZE + 12, Header.TYPE_REPLY, 0).encodeTo(shortWriteReply);
        shortWriteReply.putLong(DMA_IOVA).putInt(4);
        all.add(new Golden("DMA_WRITE reply 4-byte count", shortWriteReply.array(), false, Fds.NONE));
        all.add(request("DEVICE_RESET", Command.DEVICE_RESET, Payload.Empty.INSTANCE, Fds.NONE));
        all.add(reply("DEVICE_RESET", Command.DEVICE_RESET, Payload.Empty.INSTANCE));
        int feature = PlatformExtension.FEATURE_DT_IDENTITY;
        all.add(request(
                "DEVICE_FEATURE get",
                Command.DEVICE_FEATURE,
                new Payload.DeviceFeature(4096, feature | Payload.DeviceFeature.GET, Bytes.EMPTY),
                Fds.NONE));
        all.add(request(
                "DEVICE_FEATURE probe",
                Command.DEVICE_FEATURE,
                new Payload.DeviceFeature(8, feature | Payload.DeviceFeature.PROBE, Bytes.EMPTY),
                Fds.NONE));
        byte[] identity = PlatformExtension.encode(identity());
        all.add(reply(
                "DEVICE_FEATURE",
                Command.DEVICE_FEATURE,
                new Payload.DeviceFeature(
                        8 + identity.length, feature | Payload.DeviceFeature.GET, Bytes.copyOf(identity))));
        all.add(new Golden(
                "error reply",
                Codec.encode(1, Command.REGION_READ, Header.TYPE_REPLY | Header.ERROR, 22, Payload.Empty.INSTANCE),
                false,
                Fds.NONE));
        return List.copyOf(all);
    }

    /** The client requests only: what a server is fuzzed with. */
    public static List<Golden> clientRequests() {
        return all().stream().filter(Golden::clientRequest).toList();
    }

    /** The identity the fuzzed device declares (and the golden DEVICE_FEATURE reply carries). */
    public static DeviceTreeIdentity identity() {
        return new DeviceTreeIdentity(
                List.of("jvfio,fuzz-device", "jvfio,generic"),
                Map.of("reg-shift", new byte[] {0, 0, 0, 2}, "clock-frequency", new byte[] {0, 0x10, 0, 0}),
                List.of(new DeviceTreeIdentity.IrqAck(1, 0, FuzzDevice.LEVEL_STATUS, 1, FuzzDevice.LEVEL_ACK, 1)));
    }
}
