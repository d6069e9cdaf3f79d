package io.jvfio.vfiouser.server;

import java.io.IOException;

/** A device model's DMA that the server could not do, and why; the connection goes on. */
public final class DmaException extends IOException {
    /** Why a DMA failed. */
    public enum Reason {
        /** The range does not lie inside one DMA mapping of the client. */
        OUTSIDE_MAPPINGS,
        /** The client mapped the range without the access asked for (read-only or write-only). */
        NOT_PERMITTED,
        /** The client's memory behind an mmap'ed mapping is gone (it shrank the file). */
        MEMORY_GONE,
        /** The client answered a DMA_READ / DMA_WRITE with an error reply. */
        REFUSED_BY_CLIENT,
        /** No client is connected, or it has not negotiated yet. */
        NO_CLIENT
    }

    private final Reason reason;

    public DmaException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
