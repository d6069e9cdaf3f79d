package io.jvfio.machine.serial;

import static io.jvfio.chips.serial.Uart16550Registers.REGISTER_COUNT;

import io.jvfio.chips.serial.Uart16550;
import io.jvfio.machine.bus.PioDevice;

/**
 * A UART's registers as eight consecutive I/O ports, as on a PC's COM port. A wider access (an
 * {@code inw} or {@code outl}) reaches consecutive registers one byte each, as the ISA bus splits it for
 * an 8-bit device; bytes beyond the eighth port read all ones and are not written.
 */
public final class UartPortDevice implements PioDevice {
    private final Uart16550 uart;

    public UartPortDevice(Uart16550 uart) {
        this.uart = uart;
    }

    @Override
    public long read(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            long register = offset + i;
            long data = register < REGISTER_COUNT ? uart.read((int) register) : 0xFF;
            value |= data << (8 * i);
        }
        return value;
    }

    @Override
    public void write(long offset, int size, long value) {
        for (int i = 0; i < size && offset + i < REGISTER_COUNT; i++) {
            uart.write((int) (offset + i), (int) (value >>> (8 * i)) & 0xFF);
        }
    }
}
