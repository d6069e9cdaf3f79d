/**
 * The {@code ns16550a} device model (docs/devices/ns16550a.md): {@link io.jvfio.devices.ns16550a.Ns16550a},
 * the 16550A of module {@code chips} served as a vfio-user platform device with MMIO registers and one
 * level IRQ, and {@link io.jvfio.devices.ns16550a.SerialSocket}, its serial line as a host Unix socket.
 * Uses only the vfio-user server SPI and the chip model; nothing here touches {@code java.lang.foreign}.
 */
package io.jvfio.devices.ns16550a;
