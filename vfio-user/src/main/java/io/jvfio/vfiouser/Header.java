package io.jvfio.vfiouser;

import java.nio.ByteBuffer;

/**
 * The 16-byte header in front of every vfio-user message, in host byte order: message id, command,
 * size of the whole message (header included), flags (type in bits 0-3, NO_REPLY bit 4, ERROR bit 5)
 * and the errno of an error reply.
 */
public record Header(int msgId, int command, int size, int flags, int error) {
    public static final int SIZE = 16;
    public static final int TYPE_MASK = 0xF;
    public static final int TYPE_COMMAND = 0;
    public static final int TYPE_REPLY = 1;
    public static final int NO_REPLY = 1 << 4;
    public static final int ERROR = 1 << 5;

    public Header {
        if (msgId < 0 || msgId > 0xFFFF || command < 0 || command > 0xFFFF) {
            throw new IllegalArgumentException("message id " + msgId + " or command " + command + " is not a u16");
        }
    }

    public static Header command(int msgId, int command, int size) {
        return new Header(msgId, command, size, TYPE_COMMAND, 0);
    }

    public static Header reply(int msgId, int command, int size) {
        return new Header(msgId, command, size, TYPE_REPLY, 0);
    }

    public boolean isReply() {
        return (flags & TYPE_MASK) == TYPE_REPLY;
    }

    public boolean isError() {
        return (flags & ERROR) != 0;
    }

    public boolean noReply() {
        return (flags & NO_REPLY) != 0;
    }

    /** Bytes after the header. */
    public int bodySize() {
        return size - SIZE;
    }

    /** Writes the header at the buffer's position (the buffer must be in host byte order). */
    public void encodeTo(ByteBuffer out) {
        encodeTo(out, msgId, command, size, flags, error);
    }

    /** Writes a header from its fields, without a {@code Header} object (fields as the constructor checks them). */
    public static void encodeTo(ByteBuffer out, int msgId, int command, int size, int flags, int error) {
        out.putShort((short) msgId);
        out.putShort((short) command);
        out.putInt(size);
        out.putInt(flags);
        out.putInt(error);
    }

    /**
     * Reads a header from 16 bytes at the buffer's position; checks the type and that the size
     * covers at least the header. The size is not checked against a limit here.
     */
    public static Header decode(ByteBuffer in) throws ProtocolException {
        if (in.remaining() < SIZE) {
            throw new ProtocolException("short header: " + in.remaining() + " of " + SIZE + " bytes");
        }
        Header header = decodeAt(in, in.position());
        in.position(in.position() + SIZE);
        return header;
    }

    /**
     * Decodes the header at {@code index} of {@code in} (which must hold {@link #SIZE} bytes there),
     * in the buffer's byte order, without moving its position.
     */
    public static Header decodeAt(ByteBuffer in, int index) throws ProtocolException {
        int msgId = Short.toUnsignedInt(in.getShort(index));
        int command = Short.toUnsignedInt(in.getShort(index + 2));
        int size = in.getInt(index + 4);
        int flags = in.getInt(index + 8);
        int error = in.getInt(index + 12);
        if (Integer.compareUnsigned(size, SIZE) < 0) {
            throw new ProtocolException(
                    "message size " + Integer.toUnsignedString(size) + " is smaller than the " + SIZE + "-byte header");
        }
        int type = flags & TYPE_MASK;
        if (type != TYPE_COMMAND && type != TYPE_REPLY) {
            throw new ProtocolException("message type " + type + " is neither command (0) nor reply (1)");
        }
        return new Header(msgId, command, size, flags, error);
    }

    @Override
    public String toString() {
        return (isReply() ? "reply" : "command") + " " + Command.name(command) + " #" + msgId + " (" + size + " bytes"
                + (isError() ? ", error " + error : "") + (noReply() ? ", no reply" : "") + ")";
    }
}
