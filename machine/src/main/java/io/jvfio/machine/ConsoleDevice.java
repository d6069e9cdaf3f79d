package io.jvfio.machine;

/** What answers at COM1 (0x3F8-0x3FF): the machine's console. */
public enum ConsoleDevice {
    /**
     * A 16550A UART on IRQ 4 ({@link io.jvfio.chips.serial.Uart16550}): a tty for Linux's 8250 driver,
     * input from {@link MachineConfig#consoleInput()}, and still a plain data register for a guest that
     * writes THR without any setup.
     */
    UART_16550,
    /** jvfio's first console: writes to 0x3F8 are output, LSR reads "ready to send", nothing else. */
    OUTPUT_PORT
}
