/**
 * Guest-visible buses: {@link io.jvfio.machine.bus.Bus}, a sorted set of non-overlapping ranges that
 * dispatches MMIO or port accesses to {@link io.jvfio.machine.bus.MmioDevice}s and
 * {@link io.jvfio.machine.bus.PioDevice}s with offsets relative to each device. Nothing here knows about
 * KVM, VFIO or exits: a bus is driven by whoever decodes the exit, and never throws at the guest.
 */
package io.jvfio.machine.bus;
