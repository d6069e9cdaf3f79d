package io.jvfio.vfiouser;

/**
 * The byte stream did not hold a well-formed message (short header, impossible size, oversize,
 * incomplete body). The channel has already dropped the offending bytes; {@code msgId} and
 * {@code command} are what could be read of the header, -1 where nothing could.
 */
public final class FramingException extends ProtocolException {
    private final int msgId;
    private final int command;

    public FramingException(String message, int errno, int msgId, int command) {
        super(message, errno);
        this.msgId = msgId;
        this.command = command;
    }

    public int msgId() {
        return msgId;
    }

    public int command() {
        return command;
    }
}
