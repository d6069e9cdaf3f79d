/**
 * The linux/vfio.h ABI: struct sizes and offsets, ioctl numbers and flags ({@link io.jvfio.sys.vfio.VfioAbi}),
 * and one typed static function per ioctl on container, group and device fds
 * ({@link io.jvfio.sys.vfio.VfioIoctls}). Knows nothing of devices beyond the kernel's structs: discovery,
 * reference counting and the device API live in {@code vfio-kernel}.
 */
package io.jvfio.sys.vfio;
