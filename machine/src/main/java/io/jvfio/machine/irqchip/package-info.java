/**
 * jvfio's own interrupt controller for {@code kernel-irqchip=off}: an IOAPIC and a LAPIC per vCPU modelled
 * from the 82093AA datasheet and the Intel SDM, delivering through KVM_INTERRUPT. It exists because a
 * KVM whose in-kernel LAPIC ends every interrupt at delivery cannot keep a level line's semantics; the
 * models are plain state machines guarded by {@link io.jvfio.machine.irqchip.UserIrqchip}'s lock, and
 * nothing here touches {@code java.lang.foreign}.
 */
package io.jvfio.machine.irqchip;
