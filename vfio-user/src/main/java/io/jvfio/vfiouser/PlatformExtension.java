package io.jvfio.vfiouser;

import io.jvfio.vfio.DeviceTreeIdentity;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * jvfio's platform-device extension of vfio-user (docs/vfio-user-platform.md): DEVICE_GET_INFO sets
 * VFIO_DEVICE_FLAGS_PLATFORM for non-PCI devices, and DEVICE_FEATURE with feature index
 * {@link #FEATURE_DT_IDENTITY} (0x4A56, "JV") returns the device's device-tree identity in the
 * length-prefixed binary form below (host byte order).
 *
 * <pre>
 * u32 magic "JVDT" (0x5444564A), u16 format version (1), u16 reserved (0)
 * u32 compatible count, then per string: u32 length, UTF-8 bytes (no NUL)
 * u32 property count, then per property: u32 name length, UTF-8 name, u32 value length, value bytes
 * u32 IRQ ack count, then per ack: u32 irq index, u32 region, u64 status offset, u64 status mask,
 *     u64 ack offset, u64 ack mask
 * </pre>
 */
public final class PlatformExtension {
    /** The DEVICE_FEATURE feature index of the device-tree identity (bits 0-15 of flags). */
    public static final int FEATURE_DT_IDENTITY = 0x4A56;

    public static final int MAGIC = 0x5444564A;
    public static final int FORMAT_VERSION = 1;

    private PlatformExtension() {}

    public static byte[] encode(DeviceTreeIdentity identity) {
        List<byte[]> compatible = identity.compatible().stream()
                .map(s -> s.getBytes(StandardCharsets.UTF_8))
                .toList();
        int size = 8 + 4 + 4 + 4;
        for (byte[] c : compatible) {
            size += 4 + c.length;
        }
        for (Map.Entry<String, byte[]> property : identity.properties().entrySet()) {
            size += 8 + property.getKey().getBytes(StandardCharsets.UTF_8).length + property.getValue().length;
        }
        size += identity.irqAcks().size() * 40;
        ByteBuffer out = ByteBuffer.allocate(size).order(Codec.ORDER);
        out.putInt(MAGIC).putShort((short) FORMAT_VERSION).putShort((short) 0);
        out.putInt(compatible.size());
        for (byte[] c : compatible) {
            out.putInt(c.length).put(c);
        }
        out.putInt(identity.properties().size());
        for (Map.Entry<String, byte[]> property : identity.properties().entrySet()) {
            byte[] name = property.getKey().getBytes(StandardCharsets.UTF_8);
            out.putInt(name.length).put(name).putInt(property.getValue().length).put(property.getValue());
        }
        out.putInt(identity.irqAcks().size());
        for (DeviceTreeIdentity.IrqAck ack : identity.irqAcks()) {
            out.putInt(ack.irqIndex())
                    .putInt(ack.region())
                    .putLong(ack.statusOffset())
                    .putLong(ack.statusMask())
                    .putLong(ack.ackOffset())
                    .putLong(ack.ackMask());
        }
        return out.array();
    }

    /** Decodes and validates an identity: every length and count must fit the bytes, nothing may trail. */
    public static DeviceTreeIdentity decode(byte[] bytes) throws ProtocolException {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(Codec.ORDER);
        need(in, 8, "header");
        int magic = in.getInt();
        int version = Short.toUnsignedInt(in.getShort());
        in.getShort();
        if (magic != MAGIC) {
            throw new ProtocolException("device-tree identity: bad magic 0x" + Integer.toHexString(magic));
        }
        if (version != FORMAT_VERSION) {
            throw new ProtocolException(
                    "device-tree identity: format version " + version + " is not " + FORMAT_VERSION);
        }
        int compatibleCount = count(in, 4, "compatible");
        List<String> compatible = new ArrayList<>(compatibleCount);
        for (int i = 0; i < compatibleCount; i++) {
            String value = string(in, "compatible string " + i);
            if (value.isEmpty()) {
                throw new ProtocolException("device-tree identity: compatible string " + i + " is empty");
            }
            compatible.add(value);
        }
        if (compatible.isEmpty()) {
            throw new ProtocolException("device-tree identity: no compatible string");
        }
        int propertyCount = count(in, 8, "property");
        Map<String, byte[]> properties = new LinkedHashMap<>();
        for (int i = 0; i < propertyCount; i++) {
            String name = string(in, "property name " + i);
            if (name.isEmpty() || properties.containsKey(name)) {
                throw new ProtocolException("device-tree identity: property name " + i + " is empty or repeated");
            }
            int length = length(in, "property " + name);
            byte[] value = new byte[length];
            in.get(value);
            properties.put(name, value);
        }
        int ackCount = count(in, 40, "IRQ ack");
        List<DeviceTreeIdentity.IrqAck> acks = new ArrayList<>(ackCount);
        for (int i = 0; i < ackCount; i++) {
            int irq = in.getInt();
            int region = in.getInt();
            long statusOffset = in.getLong();
            long statusMask = in.getLong();
            long ackOffset = in.getLong();
            long ackMask = in.getLong();
            try {
                acks.add(new DeviceTreeIdentity.IrqAck(irq, region, statusOffset, statusMask, ackOffset, ackMask));
            } catch (IllegalArgumentException e) {
                throw new ProtocolException("device-tree identity: IRQ ack " + i + ": " + e.getMessage());
            }
        }
        if (in.hasRemaining()) {
            throw new ProtocolException("device-tree identity: " + in.remaining() + " bytes after the last field");
        }
        return new DeviceTreeIdentity(compatible, properties, acks);
    }

    private static void need(ByteBuffer in, long bytes, String what) throws ProtocolException {
        if (in.remaining() < bytes) {
            throw new ProtocolException(
                    "device-tree identity: " + what + " needs " + bytes + " bytes, " + in.remaining() + " left");
        }
    }

    /** A u32 count whose entries, each at least {@code minEntry} bytes, must fit what is left. */
    private static int count(ByteBuffer in, int minEntry, String what) throws ProtocolException {
        need(in, 4, what + " count");
        long count = Integer.toUnsignedLong(in.getInt());
        if (count * minEntry > in.remaining()) {
            throw new ProtocolException("device-tree identity: " + count + " " + what + " entries cannot fit in "
                    + in.remaining() + " bytes");
        }
        return (int) count;
    }

    private static int length(ByteBuffer in, String what) throws ProtocolException {
        need(in, 4, what + " length");
        long length = Integer.toUnsignedLong(in.getInt());
        need(in, length, what);
        return (int) length;
    }

    private static String string(ByteBuffer in, String what) throws ProtocolException {
        int length = length(in, what);
        ByteBuffer slice = in.slice(in.position(), length);
        in.position(in.position() + length);
        return Codec.utf8(slice, "device-tree identity: " + what);
    }
}
