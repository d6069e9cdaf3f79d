package io.jvfio.sys.kvm;

/**
 * struct kvm_userspace_memory_region: memory slot {@code slot} maps {@code memorySize} bytes at
 * {@code userspaceAddr} in this process to guest-physical {@code guestPhysAddr}. Size 0 deletes the slot.
 */
public record MemoryRegion(int slot, int flags, long guestPhysAddr, long memorySize, long userspaceAddr) {}
