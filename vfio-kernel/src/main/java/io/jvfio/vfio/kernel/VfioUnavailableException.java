package io.jvfio.vfio.kernel;

import io.jvfio.vfio.VfioException;

/**
 * This kernel offers no VFIO at all (no {@code /dev/vfio/vfio} and no {@code /dev/iommu}), or not the
 * flavour asked for. One clear message, no errno trace: nothing about the device is wrong.
 */
public final class VfioUnavailableException extends VfioException {
    public VfioUnavailableException(String device, String message) {
        super(device, message);
    }
}
