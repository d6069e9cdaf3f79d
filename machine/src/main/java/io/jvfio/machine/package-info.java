/**
 * A minimal KVM machine for guests and device models: guest RAM, the address space (MMIO and port buses
 * with switchable mmap'ed subregions), IRQ lines, the platform-bus allocator, exit dispatch, vCPU threads
 * and a clean shutdown ({@link io.jvfio.machine.Machine}). It uses the {@code kvm} module's typed API and
 * never {@code java.lang.foreign}; it knows nothing about VFIO (the {@code platform} module builds on it).
 */
package io.jvfio.machine;
