package io.jvfio.machine.serial;

import static io.jvfio.machine.serial.Uart16550Registers.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The UART as eight I/O ports: a byte a register, wider accesses split across consecutive registers. */
class UartPortDeviceTest {
    private final UartFixture f = new UartFixture();
    private final UartPortDevice ports = new UartPortDevice(f.uart);

    @Test
    void byteAccessesReachTheRegisterAtTheirOffset() {
        ports.write(SCR, 1, 0x5A);

        assertThat(ports.read(SCR, 1)).isEqualTo(0x5A);
        assertThat(ports.read(LSR, 1)).isEqualTo(LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY);
    }

    @Test
    void aWordWriteFillsTwoConsecutiveRegisters() {
        f.write(LCR, LCR_DLAB);

        ports.write(DLL, 2, 0x0180);

        assertThat(f.read(DLL)).isEqualTo(0x80);
        assertThat(f.read(DLM)).isEqualTo(0x01);
        assertThat(ports.read(DLL, 2)).isEqualTo(0x0180);
    }

    @Test
    void bytesPastTheEighthPortReadAllOnesAndAreNotWritten() {
        ports.write(SCR, 2, 0xFF42);

        assertThat(ports.read(SCR, 4)).isEqualTo(0xFFFFFF42L);
    }
}
