package io.jvfio.vfio.kernel;

import io.jvfio.sys.vfio.VfioAbi;
import io.jvfio.sys.vfio.VfioAbi.vfio_info_cap_header;
import io.jvfio.sys.vfio.VfioAbi.vfio_region_info;
import io.jvfio.sys.vfio.VfioAbi.vfio_region_info_cap_sparse_mmap;
import io.jvfio.sys.vfio.VfioAbi.vfio_region_sparse_mmap_area;
import io.jvfio.vfio.RegionCapability;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfio.VfioException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a {@code vfio_region_info} and its capability chain from the bytes the kernel filled
 * (little-endian, offsets from the struct's start): the sparse-mmap capability (id 1, version 1) becomes
 * the region's sparse areas, every other capability is kept as id, version and body. A chain that
 * loops, points into the fixed header or past the reply, or a sparse capability whose areas do not fit,
 * is rejected with a message saying where.
 */
public final class RegionInfoParser {
    /** More capabilities than any kernel sends: a longer chain is treated as corrupt. */
    static final int MAX_CAPABILITIES = 64;

    private static final int SPARSE_MMAP_VERSION = 1;

    private RegionInfoParser() {}

    public static RegionInfo parse(String device, byte[] raw) throws VfioException {
        if (raw.length < vfio_region_info.SIZE) {
            throw new VfioException(
                    device,
                    "region info reply of " + raw.length + " bytes is shorter than vfio_region_info ("
                            + vfio_region_info.SIZE + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int index = b.getInt(vfio_region_info.index);
        int flags = b.getInt(vfio_region_info.flags);
        int capOffset = b.getInt(vfio_region_info.cap_offset);
        long size = b.getLong(vfio_region_info.size);
        long offset = b.getLong(vfio_region_info.offset);
        String where = "region " + index + ": ";
        if (index < 0 || size < 0 || offset < 0) {
            throw new VfioException(
                    device,
                    where + "index, size 0x" + Long.toHexString(size) + " or offset 0x" + Long.toHexString(offset)
                            + " out of range");
        }

        Optional<List<SparseArea>> sparse = Optional.empty();
        List<RegionCapability> others = new ArrayList<>();
        if ((flags & VfioAbi.VFIO_REGION_INFO_FLAG_CAPS) != 0 && capOffset != 0) {
            Set<Integer> seen = new HashSet<>();
            int at = capOffset;
            while (at != 0) {
                if (!seen.add(at)) {
                    throw new VfioException(device, where + "capability chain loops back to offset " + at);
                }
                if (seen.size() > MAX_CAPABILITIES) {
                    throw new VfioException(device, where + "capability chain longer than " + MAX_CAPABILITIES);
                }
                if (at < vfio_region_info.SIZE || at > raw.length - vfio_info_cap_header.SIZE) {
                    throw new VfioException(
                            device,
                            where + "capability at offset " + Integer.toUnsignedString(at)
                                    + " lies outside the " + raw.length + "-byte reply (capabilities start at "
                                    + vfio_region_info.SIZE + ")");
                }
                int id = Short.toUnsignedInt(b.getShort(at + vfio_info_cap_header.id));
                int version = Short.toUnsignedInt(b.getShort(at + vfio_info_cap_header.version));
                int next = b.getInt(at + vfio_info_cap_header.next);
                int end = next > at && next <= raw.length ? next : raw.length;
                if (id == VfioAbi.VFIO_REGION_INFO_CAP_SPARSE_MMAP && version == SPARSE_MMAP_VERSION) {
                    if (sparse.isPresent()) {
                        throw new VfioException(device, where + "two sparse mmap capabilities");
                    }
                    sparse = Optional.of(sparseAreas(device, where, b, at, raw.length));
                } else {
                    others.add(new RegionCapability(
                            id,
                            version,
                            Arrays.copyOfRange(
                                    raw,
                                    at + vfio_info_cap_header.SIZE,
                                    Math.max(end, at + vfio_info_cap_header.SIZE))));
                }
                at = next;
            }
        }
        if (sparse.isEmpty() && others.stream().anyMatch(c -> c.id() == VfioAbi.VFIO_REGION_INFO_CAP_SPARSE_MMAP)) {
            // A sparse capability of a version jvfio does not know: mapping the whole region could expose
            // what the kernel fences off, so nothing is mapped and every access goes through the slow path.
            sparse = Optional.of(List.of());
        }
        try {
            return new RegionInfo(index, flags, size, offset, sparse, others);
        } catch (IllegalArgumentException e) {
            throw new VfioException(device, e.getMessage());
        }
    }

    private static List<SparseArea> sparseAreas(String device, String where, ByteBuffer b, int at, int length)
            throws VfioException {
        if (at + vfio_region_info_cap_sparse_mmap.SIZE > length) {
            throw new VfioException(
                    device, where + "sparse mmap capability at offset " + at + " is cut off at " + length);
        }
        long count = Integer.toUnsignedLong(b.getInt(at + vfio_region_info_cap_sparse_mmap.nr_areas));
        long areasEnd = at + vfio_region_info_cap_sparse_mmap.areas + count * vfio_region_sparse_mmap_area.SIZE;
        if (areasEnd > length) {
            throw new VfioException(
                    device,
                    where + "sparse mmap capability claims " + count + " areas, which end at offset " + areasEnd
                            + ", past the " + length + "-byte reply");
        }
        List<SparseArea> areas = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            int area = at + vfio_region_info_cap_sparse_mmap.areas + i * vfio_region_sparse_mmap_area.SIZE;
            long areaOffset = b.getLong(area + vfio_region_sparse_mmap_area.offset);
            long areaSize = b.getLong(area + vfio_region_sparse_mmap_area.size);
            if (areaOffset < 0 || areaSize < 0 || areaOffset + areaSize < 0) {
                throw new VfioException(
                        device,
                        where + "sparse area " + i + " [0x" + Long.toHexString(areaOffset) + ", +0x"
                                + Long.toHexString(areaSize) + ") overflows");
            }
            areas.add(new SparseArea(areaOffset, areaSize));
        }
        return areas;
    }
}
