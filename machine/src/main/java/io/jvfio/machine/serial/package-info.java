/**
 * Serial ports: {@link io.jvfio.machine.serial.Uart16550}, a register-level 16550A (PC16550D) model, with
 * its register map in {@link io.jvfio.machine.serial.Uart16550Registers}. The model knows nothing of KVM,
 * buses or address decoding, so the machine's port-I/O console and a vfio-user device model serving MMIO
 * registers use the same code; nothing here touches {@code java.lang.foreign}.
 */
package io.jvfio.machine.serial;
