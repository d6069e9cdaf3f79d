/**
 * VFIO platform device assignment, QEMU's {@code hw/vfio/platform.c} rebuilt on jvfio's machine: a
 * device's regions placed on the platform bus (trapped, with an mmap'ed fast path), its IRQs forwarded
 * by KVM irqfd + resamplefd or by the user-side state machine, reset, DMA of guest RAM, and its
 * device-tree node; {@link io.jvfio.platform.AssignedMachine} builds a machine with such devices in the one
 * order every user needs. Talks to devices only through the {@code vfio} API, never to the kernel directly.
 */
package io.jvfio.platform;
