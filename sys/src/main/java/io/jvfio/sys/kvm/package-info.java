/**
 * The kvm.h ABI for x86-64: ioctl numbers, capability and exit constants, struct layouts with their C
 * names ({@link io.jvfio.sys.kvm.KvmAbi}), one typed static function per ioctl
 * ({@link io.jvfio.sys.kvm.KvmIoctls}) taking and returning plain records, and a typed view of a vCPU's
 * mmap'ed kvm_run ({@link io.jvfio.sys.kvm.KvmRunView}). This is the only place that lays out kvm.h
 * structs in native memory; it knows nothing of VMs as objects with lifetimes (the {@code kvm} module owns
 * those), nor of devices, buses or guests.
 */
package io.jvfio.sys.kvm;
