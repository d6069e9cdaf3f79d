package io.jvfio.machine.serial;

import static io.jvfio.chips.serial.Uart16550Registers.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.chips.serial.Uart16550;
import org.junit.jupiter.api.Test;

/** The UART as eight I/O ports: a byte a register, wider accesses split across consecutive registers. */
class UartPortDeviceTest {
    private final Uart16550 uart = Uart16550.builder()
            .interruptSink(asserted -> {})
            .transmitter(value -> true)
            .clock(new Uart16550.Clock() {
                @Override
                public long nanoTime() {
                    return 0;
                }

                @Override
                public Runnable schedule(long delayNanos, Runnable task) {
                    return () -> {};
                }
            })
            .build();
    private final UartPortDevice ports = new UartPortDevice(uart);

    @Test
    void byteAccessesReachTheRegisterAtTheirOffset() {
        ports.write(SCR, 1, 0x5A);

        assertThat(ports.read(SCR, 1)).isEqualTo(0x5A);
        assertThat(ports.read(LSR, 1)).isEqualTo(LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY);
    }

    @Test
    void aWordWriteFillsTwoConsecutiveRegisters() {
        uart.write(LCR, LCR_DLAB);

        ports.write(DLL, 2, 0x0180);

        assertThat(uart.read(DLL)).isEqualTo(0x80);
        assertThat(uart.read(DLM)).isEqualTo(0x01);
        assertThat(ports.read(DLL, 2)).isEqualTo(0x0180);
    }

    @Test
    void bytesPastTheEighthPortReadAllOnesAndAreNotWritten() {
        ports.write(SCR, 2, 0xFF42);

        assertThat(ports.read(SCR, 4)).isEqualTo(0xFFFFFF42L);
    }
}
