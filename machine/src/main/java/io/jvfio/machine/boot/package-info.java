/**
 * Getting a guest to its first instruction: the ELF64 loader ({@link io.jvfio.machine.boot.ElfImage}),
 * the long-mode tables and entry registers ({@link io.jvfio.machine.boot.LongMode}) and the boot-info
 * struct ({@link io.jvfio.machine.boot.BootInfo}); Linux kernels in {@code boot.linux}. Pure byte layout:
 * nothing here opens KVM or runs a vCPU.
 */
package io.jvfio.machine.boot;
