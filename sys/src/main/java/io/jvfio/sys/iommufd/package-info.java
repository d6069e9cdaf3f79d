/**
 * The linux/iommufd.h ABI ({@code /dev/iommu}): layouts, ioctl numbers ({@link io.jvfio.sys.iommufd.IommufdAbi})
 * and one typed static function per ioctl ({@link io.jvfio.sys.iommufd.IommufdIoctls}). I/O address spaces
 * are ids here; their owners live in {@code vfio-kernel}.
 */
package io.jvfio.sys.iommufd;
