package io.jvfio.platform.devicetree;

import java.io.IOException;

/**
 * A DTB that {@link FdtReader} refuses: the message says what is wrong and at which byte offset of the
 * blob, for example {@code malformed DTB at offset 0x58: unknown token 0x7 in the structure block}.
 */
public final class DtbFormatException extends IOException {
    private final long offset;

    public DtbFormatException(long offset, String problem) {
        super("malformed DTB at offset 0x" + Long.toHexString(offset) + ": " + problem);
        this.offset = offset;
    }

    public DtbFormatException(long offset, String problem, Throwable cause) {
        this(offset, problem);
        initCause(cause);
    }

    /** The byte offset in the blob where the problem was found. */
    public long offset() {
        return offset;
    }
}
