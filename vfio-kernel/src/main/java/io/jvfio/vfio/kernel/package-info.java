/**
 * The kernel VFIO backend: sysfs discovery with the seed's checks ({@link io.jvfio.vfio.kernel.SysfsDiscovery}),
 * the per-VM registry of legacy containers and groups and of the iommufd I/O address space, one for all of
 * a VM's devices whatever each one's {@code iommufd} mode ({@link io.jvfio.vfio.kernel.KernelVfio}), the
 * {@link io.jvfio.vfio.VfioDevice} over a device fd ({@link io.jvfio.vfio.kernel.KernelVfioDevice}), region
 * capability-chain parsing, and driver (re)binding through {@code driver_override}. Native calls go through
 * {@code io.jvfio.sys.vfio} and {@code io.jvfio.sys.iommufd}; nothing here touches native memory itself.
 */
package io.jvfio.vfio.kernel;
