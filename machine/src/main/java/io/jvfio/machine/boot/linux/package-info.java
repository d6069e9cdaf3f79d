/**
 * Booting a stock Linux kernel: a bzImage through the x86 boot protocol (Documentation/arch/x86/boot.rst,
 * entered at its 64-bit entry with the zero page, {@link io.jvfio.machine.boot.linux.BootParams}), or an ELF
 * vmlinux through its Xen PVH entry note (entered in 32-bit protected mode with an
 * {@link io.jvfio.machine.boot.linux.HvmStartInfo}), both with the machine's memory map
 * ({@link io.jvfio.machine.boot.linux.MemoryMap}), a command line and an initrd. Pure byte layout, like the
 * rest of {@code boot}: nothing here opens KVM or runs a vCPU, and nothing here writes ACPI tables (it takes
 * the RSDP's address from whoever does). Also the files such a boot is made of: Debian's kernel where
 * tools/nested/prepare.sh puts it and its modules ({@link io.jvfio.machine.boot.linux.KernelImages}), and a
 * busybox initramfs ({@link io.jvfio.machine.boot.linux.BusyboxInitramfs}).
 */
package io.jvfio.machine.boot.linux;
