/**
 * Serial chips: {@link io.jvfio.chips.serial.Uart16550}, a register-level 16550A (PC16550D) model with its
 * register map in {@link io.jvfio.chips.serial.Uart16550Registers}, and
 * {@link io.jvfio.chips.serial.SerialInputPump}, which feeds a host stream into its receiver at the guest's
 * pace. The model knows nothing of KVM, buses, address decoding or vfio-user: the machine puts it on I/O
 * ports as its console, and the {@code ns16550a} device model serves the same registers over MMIO.
 * Nothing here touches {@code java.lang.foreign} or depends on another jvfio module.
 */
package io.jvfio.chips.serial;
