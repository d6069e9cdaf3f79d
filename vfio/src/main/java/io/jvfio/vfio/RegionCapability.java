package io.jvfio.vfio;

/**
 * A region capability that jvfio does not interpret (type, migration, NVLink...), kept as its id,
 * version and body bytes after the 8-byte header.
 */
public record RegionCapability(int id, int version, byte[] body) {
    public static final int SPARSE_MMAP = 1;
    public static final int TYPE = 2;
    public static final int MSIX_MAPPABLE = 3;
    public static final int NVLINK2_SSATGT = 4;
    public static final int NVLINK2_LNKSPD = 5;
    /**
     * jvfio's read-only mmap areas ("JV", far above the kernel's ids; docs/vfio-user-platform.md): laid
     * out as SPARSE_MMAP, for windows the client may map only for reads.
     */
    public static final int JVFIO_READ_ONLY_MMAP = 0x4A56;

    public RegionCapability {
        body = body.clone();
    }

    @Override
    public byte[] body() {
        return body.clone();
    }
}
