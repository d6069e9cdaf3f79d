package io.jvfio.vfiouser;

import io.jvfio.sys.Fd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many bytes a peer's fd holds, for mapping it: the client checks a region's fd from its server and
 * the server a DMA window's fd from its client, since a mapping past the end of a file succeeds and its
 * first access there takes SIGBUS.
 */
public final class FdSize {
    private FdSize() {}

    /**
     * The size of the regular file (a memfd, say) behind {@code fd}, or -1 for anything else: a device
     * or a socket has no size that bounds a mapping, and one that cannot be told is left to mmap.
     */
    public static long regularFileSize(Fd fd) {
        try {
            Path link = Path.of("/proc/self/fd/" + fd.get());
            return Files.isRegularFile(link) ? Files.size(link) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
