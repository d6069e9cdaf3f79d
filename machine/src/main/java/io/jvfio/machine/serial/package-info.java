/**
 * Serial ports: {@link io.jvfio.machine.serial.Uart16550}, a register-level 16550A (PC16550D) model with
 * its register map in {@link io.jvfio.machine.serial.Uart16550Registers}, and what puts it on a machine:
 * {@link io.jvfio.machine.serial.UartPortDevice} (eight I/O ports) and
 * {@link io.jvfio.machine.serial.SerialInputPump} (a host stream into the receiver, paced by the guest).
 * The model knows nothing of KVM, buses or address decoding, so a vfio-user device model can serve the
 * same registers over MMIO; nothing here touches {@code java.lang.foreign}.
 */
package io.jvfio.machine.serial;
