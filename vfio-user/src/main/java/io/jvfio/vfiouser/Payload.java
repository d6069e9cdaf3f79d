package io.jvfio.vfiouser;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * The body of a vfio-user message (everything after the header), one record per layout of the
 * specification. Field names follow the specification; fds travel beside the payload, never in it.
 * {@link Codec#decode} turns bytes into these, checking every length and count.
 */
public sealed interface Payload {
    /** Bytes this payload takes on the wire. */
    int encodedSize();

    /** Writes the payload at the buffer's position (host byte order). */
    void encodeTo(ByteBuffer out);

    /** No payload: DEVICE_RESET, and the replies of DMA_MAP, DEVICE_SET_IRQS, DEVICE_RESET. */
    record Empty() implements Payload {
        public static final Empty INSTANCE = new Empty();

        @Override
        public int encodedSize() {
            return 0;
        }

        @Override
        public void encodeTo(ByteBuffer out) {}
    }

    /**
     * VERSION request and reply: major, minor and the capabilities as NUL-terminated JSON. {@code names}
     * are the numeric capabilities the JSON names (the others are the specification's defaults): all of
     * jvfio's in a proposal, those the client proposed in a reply. {@code twinSocket} is the
     * twin_socket object, null when the JSON has none.
     */
    record Version(
            int major, int minor, Capabilities capabilities, Set<String> names, Capabilities.TwinSocket twinSocket)
            implements Payload {
        public Version {
            checkU16(major, "major");
            checkU16(minor, "minor");
            names = Set.copyOf(names);
        }

        /** Without twin_socket. */
        public Version(int major, int minor, Capabilities capabilities, Set<String> names) {
            this(major, minor, capabilities, names, null);
        }

        /** With every numeric capability named, without twin_socket. */
        public Version(int major, int minor, Capabilities capabilities) {
            this(major, minor, capabilities, Set.copyOf(Capabilities.NAMES));
        }

        private byte[] json() {
            return (capabilities.toJson(names, twinSocket) + "\0").getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public int encodedSize() {
            return 4 + json().length;
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putShort((short) major);
            out.putShort((short) minor);
            out.put(json());
        }
    }

    /** DMA_MAP request (32 bytes): flags bit 0 readable, bit 1 writeable; offset into the fd sent along. */
    record DmaMap(int argsz, int flags, long offset, long address, long size) implements Payload {
        public static final int SIZE = 32;
        public static final int FLAG_READ = 1;
        public static final int FLAG_WRITE = 1 << 1;

        @Override
        public int encodedSize() {
            return SIZE;
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putLong(offset).putLong(address).putLong(size);
        }
    }

    /** DMA_UNMAP request and reply (24 bytes). */
    record DmaUnmap(int argsz, int flags, long address, long size) implements Payload {
        public static final int SIZE = 24;
        /** VFIO_DMA_UNMAP_FLAG_ALL: every mapping, with address and size 0 (QEMU's client, libvfio-user). */
        public static final int FLAG_ALL = 1 << 1;

        @Override
        public int encodedSize() {
            return SIZE;
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putLong(address).putLong(size);
        }
    }

    /** DEVICE_GET_INFO request and reply (16 bytes, struct vfio_device_info). */
    record DeviceGetInfo(int argsz, int flags, int numRegions, int numIrqs) implements Payload {
        public static final int SIZE = 16;

        @Override
        public int encodedSize() {
            return SIZE;
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putInt(numRegions).putInt(numIrqs);
        }
    }

    /** One entry of a region's capability chain (struct vfio_info_cap_header + body). */
    record Capability(int id, int version, Bytes body) {
        public Capability {
            checkU16(id, "capability id");
            checkU16(version, "capability version");
        }

        int encodedSize() {
            return 8 + body.length();
        }
    }

    /**
     * DEVICE_GET_REGION_INFO request and reply (struct vfio_region_info, 32 bytes, then the capability
     * chain). The chain starts right after the struct ({@code cap_offset} 32) when there is one; a
     * reply whose {@code argsz} exceeds what it carries was cut short for a too small request.
     */
    record DeviceGetRegionInfo(int argsz, int flags, int index, long size, long offset, List<Capability> capabilities)
            implements Payload {
        public static final int SIZE = 32;

        public DeviceGetRegionInfo {
            capabilities = List.copyOf(capabilities);
        }

        /** A request for region {@code index} accepting a reply of up to {@code argsz} bytes. */
        public static DeviceGetRegionInfo request(int argsz, int index) {
            return new DeviceGetRegionInfo(argsz, 0, index, 0, 0, List.of());
        }

        /** The bytes of the struct plus the whole chain: the {@code argsz} of a full reply. */
        public int fullSize() {
            int total = SIZE;
            for (Capability capability : capabilities) {
                total += capability.encodedSize();
            }
            return total;
        }

        @Override
        public int encodedSize() {
            return fullSize();
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putInt(index).putInt(capabilities.isEmpty() ? 0 : SIZE);
            out.putLong(size).putLong(offset);
            int position = SIZE;
            for (int i = 0; i < capabilities.size(); i++) {
                Capability capability = capabilities.get(i);
                position += capability.encodedSize();
                out.putShort((short) capability.id()).putShort((short) capability.version());
                out.putInt(i + 1 < capabilities.size() ? position : 0);
                capability.body().copyTo(out);
            }
        }
    }

    /**
     * The layout of struct vfio_irq_info, which the DEVICE_GET_REGION_IO_FDS request shares: argsz,
     * flags, the index asked about and a count (16 bytes).
     */
    sealed interface IndexCount extends Payload {
        int SIZE = 16;

        int argsz();

        int flags();

        int index();

        int count();

        @Override
        default int encodedSize() {
            return SIZE;
        }

        @Override
        default void encodeTo(ByteBuffer out) {
            out.putInt(argsz()).putInt(flags()).putInt(index()).putInt(count());
        }
    }

    /** DEVICE_GET_REGION_IO_FDS request (16 bytes). */
    record RegionIoFdsRequest(int argsz, int flags, int index, int count) implements IndexCount {}

    /**
     * One sub-region of a DEVICE_GET_REGION_IO_FDS reply: ioeventfd ({@code data} = datamatch) or
     * ioregionfd ({@code data} = user_data).
     */
    record IoFdEntry(long offset, long size, int fdIndex, int type, int flags, long data) {
        public static final int TYPE_IOEVENTFD = 0;
        public static final int TYPE_IOREGIONFD = 1;
        /** KVM_IOEVENTFD_FLAG_DATAMATCH: only a write of {@code data} signals the fd. */
        public static final int FLAG_DATAMATCH = 1;
        /** KVM_IOEVENTFD_FLAG_PIO: the port space, which a platform device's regions are not in. */
        public static final int FLAG_PIO = 2;
        /** The specification's entry size; libvfio-user uses 48, so readers take the stride from argsz. */
        public static final int SPEC_SIZE = 40;
    }

    /**
     * DEVICE_GET_REGION_IO_FDS reply: 16 bytes then {@code count} entries whose stride is
     * {@code (argsz - 16) / count} (40 in the specification, 48 in libvfio-user). {@code entries} is
     * empty when the reply was cut short.
     */
    record RegionIoFdsReply(int argsz, int flags, int index, int count, List<IoFdEntry> entries) implements Payload {
        public static final int SIZE = 16;

        public RegionIoFdsReply {
            entries = List.copyOf(entries);
            if (!entries.isEmpty()) {
                if (entries.size() != count) {
                    throw new IllegalArgumentException(entries.size() + " entries for count " + count);
                }
                long stride = ((argsz & 0xFFFFFFFFL) - SIZE) / count;
                if (stride < IoFdEntry.SPEC_SIZE || SIZE + stride * count != (argsz & 0xFFFFFFFFL)) {
                    throw new IllegalArgumentException(
                            "argsz " + argsz + " gives no whole stride >= 40 for " + count + " entries");
                }
            }
        }

        /** A reply with the specification's 40-byte entries. */
        public static RegionIoFdsReply of(int flags, int index, List<IoFdEntry> entries) {
            return new RegionIoFdsReply(
                    SIZE + IoFdEntry.SPEC_SIZE * entries.size(), flags, index, entries.size(), entries);
        }

        public int stride() {
            return entries.isEmpty() ? IoFdEntry.SPEC_SIZE : (argsz - SIZE) / count;
        }

        @Override
        public int encodedSize() {
            return SIZE + (entries.isEmpty() ? 0 : stride() * count);
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putInt(index).putInt(count);
            int stride = stride();
            for (IoFdEntry entry : entries) {
                out.putLong(entry.offset())
                        .putLong(entry.size())
                        .putInt(entry.fdIndex())
                        .putInt(entry.type());
                out.putInt(entry.flags()).putInt(0).putLong(entry.data());
                for (int i = IoFdEntry.SPEC_SIZE; i < stride; i++) {
                    out.put((byte) 0);
                }
            }
        }
    }

    /** DEVICE_GET_IRQ_INFO request and reply (16 bytes, struct vfio_irq_info). */
    record DeviceGetIrqInfo(int argsz, int flags, int index, int count) implements IndexCount {}

    /**
     * DEVICE_SET_IRQS request (struct vfio_irq_set, 20 bytes, then one byte per IRQ with DATA_BOOL).
     * Eventfds for DATA_EVENTFD travel as SCM_RIGHTS, not in {@code data}.
     */
    record DeviceSetIrqs(int argsz, int flags, int index, int start, int count, Bytes data) implements Payload {
        public static final int SIZE = 20;

        /** A request whose argsz is exactly its payload. */
        public static DeviceSetIrqs of(int flags, int index, int start, int count, Bytes data) {
            return new DeviceSetIrqs(SIZE + data.length(), flags, index, start, count, data);
        }

        @Override
        public int encodedSize() {
            return SIZE + data.length();
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putInt(index).putInt(start).putInt(count);
            data.copyTo(out);
        }
    }

    /**
     * REGION_READ / REGION_WRITE request and reply: offset, region, count (16 bytes), then the data
     * where it travels (read reply, write request); {@code data} is empty otherwise.
     */
    record RegionAccess(long offset, int region, int count, Bytes data) implements Payload {
        public static final int SIZE = 16;

        /** Without data: a read request or a write reply. */
        public static RegionAccess of(long offset, int region, int count) {
            return new RegionAccess(offset, region, count, Bytes.EMPTY);
        }

        /** With {@code data}, whose length is the count: a read reply or a write request. */
        public static RegionAccess withData(long offset, int region, Bytes data) {
            return new RegionAccess(offset, region, data.length(), data);
        }

        @Override
        public int encodedSize() {
            return SIZE + data.length();
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putLong(offset).putInt(region).putInt(count);
            data.copyTo(out);
        }
    }

    /**
     * DMA_READ / DMA_WRITE request and reply (server to client): address, count (16 bytes), then the
     * data where it travels (read reply, write request).
     */
    record DmaAccess(long address, long count, Bytes data) implements Payload {
        public static final int SIZE = 16;

        /** Without data: a read request or a write reply. */
        public static DmaAccess of(long address, long count) {
            return new DmaAccess(address, count, Bytes.EMPTY);
        }

        @Override
        public int encodedSize() {
            return SIZE + data.length();
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putLong(address).putLong(count);
            data.copyTo(out);
        }
    }

    /**
     * DEVICE_FEATURE request and reply (struct vfio_device_feature): argsz, flags (feature index in
     * bits 0-15, GET bit 16, SET bit 17, PROBE bit 18), then the feature's data.
     */
    record DeviceFeature(int argsz, int flags, Bytes data) implements Payload {
        public static final int SIZE = 8;
        public static final int FEATURE_MASK = 0xFFFF;
        public static final int GET = 1 << 16;
        public static final int SET = 1 << 17;
        public static final int PROBE = 1 << 18;

        public int feature() {
            return flags & FEATURE_MASK;
        }

        @Override
        public int encodedSize() {
            return SIZE + data.length();
        }

        @Override
        public void encodeTo(ByteBuffer out) {
            out.putInt(argsz).putInt(flags);
            data.copyTo(out);
        }
    }

    private static void checkU16(int value, String name) {
        if (value < 0 || value > 0xFFFF) {
            throw new IllegalArgumentException(name + " " + value + " is not a u16");
        }
    }
}
