/**
 * The user-side interrupt path of VFIO platform assignment: the INACTIVE/ACTIVE/PENDING state machine
 * of QEMU's platform code (one {@code PlatformIrq} per IRQ), the pending queue, EOI on a trapped access (or on a declared ack, for precise
 * EOI), and the mmap timer that restores the fast path. Pure logic over small interfaces (guest line,
 * fast path, scheduler, device unmask), so it runs the same on a real machine and under a test clock.
 * Nothing here touches KVM or VFIO directly.
 */
package io.jvfio.platform.irq;
