/**
 * The machine's serial console: {@link io.jvfio.machine.serial.UartPortDevice} puts a
 * {@link io.jvfio.chips.serial.Uart16550} (module {@code chips}) on eight I/O ports. The UART model itself
 * lives in {@code chips} so that a vfio-user device model can serve the same registers over MMIO; nothing
 * here touches {@code java.lang.foreign}.
 */
package io.jvfio.machine.serial;
