package io.jvfio.machine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.kvm.VcpuExit;
import io.jvfio.machine.bus.Bus;
import io.jvfio.machine.bus.MmioDevice;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExitDispatcherTest {
    private final Bus pio = new Bus("pio");
    private final Bus mmio = new Bus("mmio");
    private final GuestPorts ports = new GuestPorts(null);
    private final ExitDispatcher dispatcher = new ExitDispatcher(pio, mmio);
    private final List<String> deviceLog = new ArrayList<>();

    ExitDispatcherTest() {
        pio.add("console", GuestPorts.CONSOLE_PORT, GuestPorts.CONSOLE_PORTS, ports.outputPortConsole());
        pio.add("report", GuestPorts.REPORT_PORT, 1, ports.report());
        mmio.add("dev", 0xD0000000L, 0x1000, new MmioDevice() {
            @Override
            public long read(long offset, int size) {
                deviceLog.add("read " + offset + "/" + size);
                return 0xABCD;
            }

            @Override
            public void write(long offset, int size, long value) {
                deviceLog.add("write " + offset + "/" + size + "=" + Long.toHexString(value));
            }
        });
    }

    @Test
    void exitPortWriteStopsWithTheGuestsCode() {
        assertThat(dispatcher.dispatch(new VcpuExit.IoOut(0x501, 4, 42)))
                .isEqualTo(new ExitAction.Stop(new MachineExit.Exited(42)));
    }

    @Test
    void consoleBytesAndReportsAreCollected() {
        for (char c : "hi\n".toCharArray()) {
            assertThat(dispatcher.dispatch(new VcpuExit.IoOut(0x3F8, 1, c))).isEqualTo(ExitAction.RESUME);
        }
        dispatcher.dispatch(new VcpuExit.IoOut(0x502, 4, 0xC0FFEE));
        assertThat(ports.consoleText()).isEqualTo("hi\n");
        assertThat(ports.reports()).containsExactly(0xC0FFEE);
    }

    @Test
    void consoleDivisorWrittenWithDlabSetIsNotPrinted() {
        dispatcher.dispatch(new VcpuExit.IoOut(0x3FB, 1, 0x83));
        dispatcher.dispatch(new VcpuExit.IoOut(0x3F8, 1, 0x0C));
        dispatcher.dispatch(new VcpuExit.IoOut(0x3FB, 1, 0x03));
        dispatcher.dispatch(new VcpuExit.IoOut(0x3F8, 1, 'A'));

        assertThat(ports.consoleText()).isEqualTo("A");
    }

    @Test
    void consoleLineStatusReadsReadyToSend() {
        assertThat(dispatcher.dispatch(new VcpuExit.IoIn(0x3FD, 1))).isEqualTo(new ExitAction.CompleteRead(0x60));
    }

    @Test
    void mmioReadCompletesWithTheDevicesValueAndWriteReachesIt() {
        assertThat(dispatcher.dispatch(new VcpuExit.MmioRead(0xD0000010L, 2)))
                .isEqualTo(new ExitAction.CompleteRead(0xABCD));
        assertThat(dispatcher.dispatch(new VcpuExit.MmioWrite(0xD0000018L, 8, 0x1122334455667788L)))
                .isEqualTo(ExitAction.RESUME);
        assertThat(deviceLog).containsExactly("read 16/2", "write 24/8=1122334455667788");
    }

    @Test
    void unclaimedPortReadCompletesWithAllOnes() {
        assertThat(dispatcher.dispatch(new VcpuExit.IoIn(0x70, 1))).isEqualTo(new ExitAction.CompleteRead(0xFF));
        assertThat(dispatcher.dispatch(new VcpuExit.MmioRead(0x1000_0000L, 4)))
                .isEqualTo(new ExitAction.CompleteRead(0xFFFF_FFFFL));
    }

    @Test
    void interruptionsAndALoweredTaskPriorityResumeAndHaltsAwaitAnInterrupt() {
        assertThat(dispatcher.dispatch(VcpuExit.INTERRUPTED)).isEqualTo(ExitAction.RESUME);
        assertThat(dispatcher.dispatch(VcpuExit.TASK_PRIORITY_LOWERED)).isEqualTo(ExitAction.RESUME);
        assertThat(dispatcher.dispatch(VcpuExit.HALT)).isEqualTo(ExitAction.AWAIT_INTERRUPT);
    }

    @Test
    void fatalExitsStopWithAReason() {
        assertThat(dispatcher.dispatch(VcpuExit.SHUTDOWN))
                .isEqualTo(new ExitAction.Stop(new MachineExit.Failed("the guest triple-faulted (KVM_EXIT_SHUTDOWN)")));
        assertThat(reason(dispatcher.dispatch(new VcpuExit.InternalError(1)))).contains("suberror 1", "emulator");
        assertThat(reason(dispatcher.dispatch(new VcpuExit.FailEntry(0x80000021L, 0))))
                .contains("0x80000021");
        assertThat(reason(dispatcher.dispatch(new VcpuExit.SystemEvent(2)))).contains("reset");
        assertThat(reason(dispatcher.dispatch(new VcpuExit.Unknown(99)))).contains("exit reason 99");
    }

    @Test
    void localDeviceThatThrowsIsAnsweredAsUnclaimedAndTheVcpuGoesOn() {
        MmioDevice failing = new MmioDevice() {
            @Override
            public long read(long offset, int size) {
                throw new IllegalStateException("cannot arm a LAPIC timer");
            }

            @Override
            public void write(long offset, int size, long value) {
                throw new IllegalStateException("an EOI listener failed");
            }
        };
        ExitDispatcher withLocal = new ExitDispatcher(pio, mmio, 0xFEE00000L, 0x1000, failing);

        assertThat(withLocal.dispatch(new VcpuExit.MmioRead(0xFEE00380L, 4)))
                .isEqualTo(new ExitAction.CompleteRead(0xFFFF_FFFFL));
        assertThat(withLocal.dispatch(new VcpuExit.MmioWrite(0xFEE000B0L, 4, 0)))
                .isEqualTo(ExitAction.RESUME);
    }

    private static String reason(ExitAction action) {
        return ((MachineExit.Failed) ((ExitAction.Stop) action).exit()).reason();
    }
}
