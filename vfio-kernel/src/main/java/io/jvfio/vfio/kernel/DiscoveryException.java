package io.jvfio.vfio.kernel;

import io.jvfio.vfio.VfioException;
import java.nio.file.Path;

/** A host device could not be found or used as named; {@link #problem()} says which check failed. */
public final class DiscoveryException extends VfioException {
    /** The seed's checks, in the order they run. */
    public enum Problem {
        /** The host name (or the bus name) is empty, {@code .}, {@code ..} or contains {@code /}. */
        INVALID_NAME,
        /** No such device in sysfs. */
        NO_DEVICE,
        /** The device has no {@code iommu_group} link (no IOMMU, or it is off). */
        NO_IOMMU_GROUP,
        /** The {@code iommu_group} link's name is not a group number. */
        BAD_IOMMU_GROUP,
        /** The device is already attached to this VM. */
        ALREADY_ATTACHED
    }

    private final Problem problem;
    private final Path path;

    public DiscoveryException(String device, Problem problem, Path path, String message) {
        super(device, message);
        this.problem = problem;
        this.path = path;
    }

    public Problem problem() {
        return problem;
    }

    /** The sysfs path that was looked at. */
    public Path path() {
        return path;
    }
}
