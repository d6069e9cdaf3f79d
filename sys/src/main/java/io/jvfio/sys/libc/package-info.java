/**
 * {@link io.jvfio.sys.libc.Libc}: the system calls and libc functions behind sys's typed owners, taking and
 * returning raw numbers and {@link java.lang.foreign.MemorySegment}s. Internal to the {@code io.jvfio.sys}
 * module, which does not export this package: other modules reach the kernel only through the owners in
 * {@code io.jvfio.sys} and the typed calls of the ABI packages exported to their one user.
 */
package io.jvfio.sys.libc;
