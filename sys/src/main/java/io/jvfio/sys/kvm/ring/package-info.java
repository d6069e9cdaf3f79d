/**
 * KVM's coalesced MMIO ring as a typed view ({@link io.jvfio.sys.kvm.ring.CoalescedMmioRing}): the page of
 * a vCPU's mapping where KVM queues guest writes to registered zones, read with the memory ordering its
 * indexes need. Its own package so that the irqchip in {@code machine}, which drains it, sees it without
 * the rest of the kvm.h layer; the mapping itself stays owned by {@code io.jvfio.sys.kvm.KvmRunView}.
 */
package io.jvfio.sys.kvm.ring;
