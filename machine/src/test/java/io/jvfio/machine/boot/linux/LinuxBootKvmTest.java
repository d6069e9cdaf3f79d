package io.jvfio.machine.boot.linux;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.kvm.Kvm;
import io.jvfio.kvm.Vm;
import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.sys.testing.Tiers;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Both Linux entries on real KVM, with hand-assembled kernels that report what they find through the
 * report port (0x502) and end through the exit port (0x501): what a stock kernel's first instructions
 * rely on, checked on any KVM (a stock kernel itself needs the {@code linux} tier).
 */
@Tag(Tiers.KVM)
class LinuxBootKvmTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /**
     * At the 64-bit entry, with RSI = boot_params: reports e820_entries, the command line's first byte, CS,
     * CPUID 0x40000010's EAX (TSC kHz) and CPUID 1's hypervisor bit, then exits with 42.
     */
    private static final byte[] LONG_MODE_PROBE = {
        0x0f,
        (byte) 0xb6,
        (byte) 0x86,
        (byte) 0xe8,
        0x01,
        0x00,
        0x00, // movzbl 0x1e8(%rsi),%eax
        0x66,
        (byte) 0xba,
        0x02,
        0x05, //                                   mov    $0x502,%dx
        (byte) 0xef, //                                                     out    %eax,(%dx)
        (byte) 0x8b,
        (byte) 0x9e,
        0x28,
        0x02,
        0x00,
        0x00, //                mov    0x228(%rsi),%ebx
        0x0f,
        (byte) 0xb6,
        0x03, //                                         movzbl (%rbx),%eax
        (byte) 0xef, //                                                     out    %eax,(%dx)
        (byte) 0x8c,
        (byte) 0xc8, //                                        mov    %cs,%eax
        (byte) 0xef, //                                                     out    %eax,(%dx)
        (byte) 0xb8,
        0x10,
        0x00,
        0x00,
        0x40, //                             mov    $0x40000010,%eax
        0x0f,
        (byte) 0xa2, //                                               cpuid
        0x66,
        (byte) 0xba,
        0x02,
        0x05, //                                   mov    $0x502,%dx (cpuid wrote EDX)
        (byte) 0xef, //                                                     out    %eax,(%dx)
        (byte) 0xb8,
        0x01,
        0x00,
        0x00,
        0x00, //                             mov    $0x1,%eax
        0x0f,
        (byte) 0xa2, //                                               cpuid
        (byte) 0x89,
        (byte) 0xc8, //                                        mov    %ecx,%eax
        (byte) 0xc1,
        (byte) 0xe8,
        0x1f, //                                  shr    $0x1f,%eax
        0x66,
        (byte) 0xba,
        0x02,
        0x05, //                                   mov    $0x502,%dx
        (byte) 0xef, //                                                     out    %eax,(%dx)
        0x66,
        (byte) 0xba,
        0x01,
        0x05, //                                   mov    $0x501,%dx
        (byte) 0xb0,
        0x2a, //                                               mov    $0x2a,%al
        (byte) 0xee, //                                                     out    %al,(%dx)
        (byte) 0xf4, //                                                     hlt
    };

    /**
     * At the PVH entry (32-bit code), with EBX = hvm_start_info: reports its magic, memmap_entries, the
     * command line's first byte, CR0 and CS, then exits with 7.
     */
    private static final byte[] PVH_PROBE = {
        (byte) 0x8b,
        0x03, //                                               mov    (%ebx),%eax
        0x66,
        (byte) 0xba,
        0x02,
        0x05, //                                   mov    $0x502,%dx
        (byte) 0xef, //                                                     out    %eax,(%dx)
        (byte) 0x8b,
        0x43,
        0x30, //                                         mov    0x30(%ebx),%eax
        (byte) 0xef, //                                                     out    %eax,(%dx)
        (byte) 0x8b,
        0x4b,
        0x18, //                                         mov    0x18(%ebx),%ecx
        0x0f,
        (byte) 0xb6,
        0x01, //                                         movzbl (%ecx),%eax
        (byte) 0xef, //                                                     out    %eax,(%dx)
        0x0f,
        0x20,
        (byte) 0xc0, //                                         mov    %cr0,%eax
        (byte) 0xef, //                                                     out    %eax,(%dx)
        (byte) 0x8c,
        (byte) 0xc8, //                                        mov    %cs,%eax
        (byte) 0xef, //                                                     out    %eax,(%dx)
        0x66,
        (byte) 0xba,
        0x01,
        0x05, //                                   mov    $0x501,%dx
        (byte) 0xb0,
        0x07, //                                               mov    $0x7,%al
        (byte) 0xee, //                                                     out    %al,(%dx)
        (byte) 0xf4, //                                                     hlt
    };

    @BeforeEach
    void needsKvm() {
        Tiers.assumeKvm();
    }

    @Test
    void bzImageEntryRunsInLongModeWithTheZeroPageAndKvmsTimingLeaf() throws Exception {
        MachineConfig config = MachineConfig.builder()
                .kernel(new LinuxKernel(SyntheticKernels.bzImage(LONG_MODE_PROBE), null, "jvfio"))
                .build();
        try (Machine machine = Machine.create(config)) {
            machine.start();

            int code = machine.awaitExit(TIMEOUT);

            assertThat(code).isEqualTo(42);
            assertThat(machine.reports()).containsExactly(7, (int) 'j', KernelEntry.BOOT_CS, hostTscKhz(), 1);
        }
    }

    @Test
    void pvhEntryRunsIn32BitProtectedModeWithTheStartInfo() throws Exception {
        MachineConfig config = MachineConfig.builder()
                .kernel(new LinuxKernel(SyntheticKernels.pvhElf(PVH_PROBE), new byte[4096], "jvfio"))
                .build();
        try (Machine machine = Machine.create(config)) {
            machine.start();

            int code = machine.awaitExit(TIMEOUT);

            assertThat(code).isEqualTo(7);
            assertThat(machine.reports())
                    .containsExactly(HvmStartInfo.MAGIC_VALUE, 7, (int) 'j', 0x11, KernelEntry.CODE32_SELECTOR);
        }
    }

    private static int hostTscKhz() throws Exception {
        try (Kvm kvm = Kvm.open();
                Vm vm = kvm.createVm()) {
            return vm.createVcpu(0).tscKhz();
        }
    }
}
