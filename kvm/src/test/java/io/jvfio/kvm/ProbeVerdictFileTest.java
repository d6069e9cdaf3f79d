package io.jvfio.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jvfio.sys.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeVerdictFileTest {
    private static final IrqchipSemantics EOI_AT_DELIVERY = new IrqchipSemantics(
            IrqchipSemantics.Verdict.EOI_AT_DELIVERY, "LAPIC ISR 0 (documented 1)", Duration.ofMillis(7));

    @TempDir
    Path directory;

    @Test
    void aKeptVerdictIsReadBackUnderTheSameKeySayingWhereItCameFrom() {
        ProbeVerdictFile file = new ProbeVerdictFile(directory.resolve("jvfio/irqchip-verdict"), "boot A");

        file.store(IrqchipProbe.KEPT, EOI_AT_DELIVERY);
        Optional<IrqchipSemantics> kept = irqchipVerdict(file);

        assertThat(kept).hasValueSatisfying(semantics -> {
            assertThat(semantics.verdict()).isEqualTo(IrqchipSemantics.Verdict.EOI_AT_DELIVERY);
            assertThat(semantics.evidence())
                    .startsWith("LAPIC ISR 0 (documented 1) (kept from an earlier probe on this boot: ");
            assertThat(semantics.elapsed()).isEqualTo(Duration.ofMillis(7));
        });
    }

    @Test
    void anotherBootOrDeviceOrProbeRevisionReadsNothing() {
        Path path = directory.resolve("irqchip-verdict");
        new ProbeVerdictFile(path, "boot A").store(IrqchipProbe.KEPT, EOI_AT_DELIVERY);

        assertThat(irqchipVerdict(new ProbeVerdictFile(path, "boot B"))).isEmpty();
    }

    @Test
    void aFailedProbeIsNeverKept() {
        Path path = directory.resolve("irqchip-verdict");
        ProbeVerdictFile file = new ProbeVerdictFile(path, "boot A");
        file.store(IrqchipProbe.KEPT, EOI_AT_DELIVERY);

        file.store(
                IrqchipProbe.KEPT,
                new IrqchipSemantics(IrqchipSemantics.Verdict.PROBE_FAILED, "no /dev/kvm", Duration.ZERO));

        assertThat(irqchipVerdict(file))
                .map(IrqchipSemantics::verdict)
                .contains(IrqchipSemantics.Verdict.EOI_AT_DELIVERY);
    }

    @Test
    void aKeptWindowTimingIsReadBackPromptOrLateAsProbed() {
        for (boolean prompt : new boolean[] {true, false}) {
            ProbeVerdictFile file = new ProbeVerdictFile(directory.resolve(prompt + "/irq-window-verdict"), "boot A");
            file.store(
                    IrqWindowProbe.KEPT,
                    new IrqWindowProbe.Timing(prompt, "the guest's loop ran 1, 0, 1 times", Duration.ofMillis(9)));

            assertThat(file.load().flatMap(IrqWindowProbe.KEPT.read())).hasValueSatisfying(timing -> {
                assertThat(timing.prompt()).isEqualTo(prompt);
                assertThat(timing.probeFailed()).isFalse();
                assertThat(timing.evidence())
                        .startsWith("the guest's loop ran 1, 0, 1 times (kept from an earlier probe on this boot: ");
                assertThat(timing.elapsed()).isEqualTo(Duration.ofMillis(9));
            });
        }
    }

    @Test
    void theProbeRunsOnceAndLaterCallsReadWhatItKeptUnlessItFailed() {
        ProbeVerdictFile file = new ProbeVerdictFile(directory.resolve("irq-window-verdict"), "boot A");
        AtomicInteger runs = new AtomicInteger();
        Supplier<IrqWindowProbe.Timing> prompt = () -> {
            runs.incrementAndGet();
            return new IrqWindowProbe.Timing(true, "the guest's loop ran 1, 1, 1 times", Duration.ofMillis(9));
        };

        IrqWindowProbe.Timing probed = file.keptOrProbed(IrqWindowProbe.KEPT, prompt);
        IrqWindowProbe.Timing kept = file.keptOrProbed(IrqWindowProbe.KEPT, prompt);

        assertThat(runs).hasValue(1);
        assertThat(probed.evidence()).isEqualTo("the guest's loop ran 1, 1, 1 times");
        assertThat(kept.prompt()).isTrue();
        assertThat(kept.evidence()).contains("kept from an earlier probe");

        ProbeVerdictFile other = new ProbeVerdictFile(directory.resolve("failed/irq-window-verdict"), "boot A");
        Supplier<IrqWindowProbe.Timing> failing = () -> {
            runs.incrementAndGet();
            return IrqWindowProbe.run(Path.of("/nonexistent/kvm"));
        };
        assertThat(other.keptOrProbed(IrqWindowProbe.KEPT, failing).probeFailed())
                .isTrue();
        assertThat(other.keptOrProbed(IrqWindowProbe.KEPT, failing).probeFailed())
                .isTrue();
        assertThat(runs).as("a failed probe is run again").hasValue(3);
    }

    @Test
    void aFailedWindowProbeIsNeverKept() {
        ProbeVerdictFile file = new ProbeVerdictFile(directory.resolve("irq-window-verdict"), "boot A");

        file.store(IrqWindowProbe.KEPT, IrqWindowProbe.run(Path.of("/nonexistent/kvm")));

        assertThat(file.file()).doesNotExist();
    }

    @Test
    void eachProbeHasItsOwnFileAndKeyAndReadsNoVerdictOfTheOthers() throws Exception {
        Path device = Files.writeString(directory.resolve("kvm"), "");
        Path proc = procWithModules("kvm_pvm 98304 0 - Live 0x0000000000000000\n");
        Path cache = directory.resolve("cache");
        ProbeVerdictFile irqchip =
                ProbeVerdictFile.forHost(IrqchipProbe.KEPT, device, proc, cache).orElseThrow();
        ProbeVerdictFile window = ProbeVerdictFile.forHost(IrqWindowProbe.KEPT, device, proc, cache)
                .orElseThrow();
        assertThat(irqchip.file()).isNotEqualTo(window.file());
        assertThat(irqchip.hostKey()).isNotEqualTo(window.hostKey());

        irqchip.store(IrqchipProbe.KEPT, EOI_AT_DELIVERY);
        Files.copy(irqchip.file(), window.file());

        assertThat(window.load().flatMap(IrqWindowProbe.KEPT.read())).isEmpty();
    }

    @Test
    void aDamagedFileReadsAsNoneAndTheNextProbeReplacesIt() throws Exception {
        Path path = directory.resolve("irqchip-verdict");
        ProbeVerdictFile file = new ProbeVerdictFile(path, "boot A");
        Files.writeString(path, "jvfio probe verdict\nboot A\nMAYBE\nevidence\nPT0.007S\n");
        assertThat(irqchipVerdict(file)).isEmpty();

        file.store(
                IrqchipProbe.KEPT,
                new IrqchipSemantics(IrqchipSemantics.Verdict.EXACT, "as documented", Duration.ofMillis(3)));

        assertThat(irqchipVerdict(file)).map(IrqchipSemantics::verdict).contains(IrqchipSemantics.Verdict.EXACT);
        try (var left = Files.list(directory)) {
            assertThat(left).containsExactly(path);
        }
    }

    @Test
    void aKeptProbeTimeNoProbeCouldTakeReadsAsNone() throws Exception {
        Path path = directory.resolve("irqchip-verdict");
        ProbeVerdictFile file = new ProbeVerdictFile(path, "boot A");

        for (String elapsed : new String[] {"PT-0.007S", "PT9999999999H"}) {
            Files.writeString(path, "jvfio probe verdict\nboot A\nEXACT\nas documented\n" + elapsed + "\n");

            assertThat(irqchipVerdict(file)).as(elapsed).isEmpty();
        }
    }

    @Test
    void aFileThatIsNotARegularOneReadsAsNoneAtOnce() throws Exception {
        Path path = Files.createSymbolicLink(directory.resolve("irqchip-verdict"), Path.of("/dev/zero"));
        ProbeVerdictFile file = new ProbeVerdictFile(path, "boot A");

        assertThat(assertTimeoutPreemptively(Duration.ofSeconds(5), file::load)).isEmpty();
    }

    @Test
    void anOversizedFileReadsAsNone() throws Exception {
        Path path = directory.resolve("irqchip-verdict");
        ProbeVerdictFile file = new ProbeVerdictFile(path, "boot A");
        String padding = " ".repeat(ProbeVerdictFile.MAX_BYTES);
        Files.writeString(path, "jvfio probe verdict\nboot A\nEXACT\nas documented" + padding + "\nPT0.003S\n");

        assertThat(irqchipVerdict(file)).isEmpty();
    }

    @Test
    void aFileOthersMayWriteReadsAsNone() throws Exception {
        Path path = directory.resolve("irqchip-verdict");
        ProbeVerdictFile file = new ProbeVerdictFile(path, "boot A");
        file.store(IrqchipProbe.KEPT, EOI_AT_DELIVERY);

        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw--w--w-"));

        assertThat(irqchipVerdict(file)).isEmpty();
    }

    @Test
    void aFileInADirectoryOthersMayWriteReadsAsNone() throws Exception {
        // There another user can swap the file for their own, or for a FIFO, between the checks and the read.
        Path shared = Files.createDirectory(directory.resolve("jvfio"));
        ProbeVerdictFile file = new ProbeVerdictFile(shared.resolve("irqchip-verdict"), "boot A");
        file.store(IrqchipProbe.KEPT, EOI_AT_DELIVERY);

        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));

        assertThat(irqchipVerdict(file)).isEmpty();
    }

    @Test
    void theDirectoryAStoreMakesIsTheOwnersAloneSoThatALaterLoadReadsIt() throws Exception {
        Path made = directory.resolve("cache/jvfio");
        ProbeVerdictFile file = new ProbeVerdictFile(made.resolve("irqchip-verdict"), "boot A");
        file.store(IrqchipProbe.KEPT, EOI_AT_DELIVERY);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made)))
                .as("made with the process's umask, a group-writable directory would keep a verdict load refuses")
                .isEqualTo("rwx------");
        assertThat(irqchipVerdict(file)).isPresent();
    }

    @Test
    void aDirectoryThatCannotBeWrittenKeepsNothingAndThrowsNothing() throws Exception {
        Path notADirectory = Files.writeString(directory.resolve("a-file"), "");
        ProbeVerdictFile file = new ProbeVerdictFile(notADirectory.resolve("irqchip-verdict"), "boot A");

        file.store(IrqchipProbe.KEPT, EOI_AT_DELIVERY);

        assertThat(irqchipVerdict(file)).isEmpty();
    }

    @Test
    void aVerdictKeptUnderOneKvmModuleIsNotReadUnderAnotherLoadedBehindTheSameDeviceNode() throws Exception {
        // A container's /dev/kvm, made by mknod: the host swapping its module changes neither inode nor ctime.
        Path device = Files.writeString(directory.resolve("kvm"), "");
        Path proc = procWithModules("kvm_intel 413696 0 - Live 0x0000000000000000\n"
                + "kvm 1404928 1 kvm_intel, Live 0x0000000000000000\n");
        Path cache = directory.resolve("cache");
        ProbeVerdictFile.forHost(IrqchipProbe.KEPT, device, proc, cache)
                .orElseThrow()
                .store(
                        IrqchipProbe.KEPT,
                        new IrqchipSemantics(IrqchipSemantics.Verdict.EXACT, "as documented", Duration.ofMillis(3)));

        Files.writeString(
                proc.resolve("modules"),
                "kvm_intel 413696 2 - Live 0x0000000000000000\n"
                        + "kvm 1404928 3 kvm_intel, Live 0x0000000000000000\n");
        assertThat(irqchipVerdict(ProbeVerdictFile.forHost(IrqchipProbe.KEPT, device, proc, cache)
                        .orElseThrow()))
                .as("only the use counts changed")
                .isPresent();

        Files.writeString(
                proc.resolve("modules"),
                "kvm_pvm 98304 0 - Live 0x0000000000000000\n" + "kvm 1404928 1 kvm_pvm, Live 0x0000000000000000\n");
        assertThat(irqchipVerdict(ProbeVerdictFile.forHost(IrqchipProbe.KEPT, device, proc, cache)
                        .orElseThrow()))
                .isEmpty();
    }

    private static Optional<IrqchipSemantics> irqchipVerdict(ProbeVerdictFile file) {
        return file.load().flatMap(IrqchipProbe.KEPT.read());
    }

    private Path procWithModules(String modules) throws Exception {
        Path proc = directory.resolve("proc");
        Files.createDirectories(proc.resolve("sys/kernel/random"));
        Files.writeString(proc.resolve("sys/kernel/random/boot_id"), "9b1f0c52-0d4e-4c1e-9d1c-4f0a7e0b2c11\n");
        Files.writeString(proc.resolve("sys/kernel/osrelease"), "6.18.44\n");
        Files.writeString(proc.resolve("modules"), modules);
        return proc;
    }

    @Test
    @Tag(Tiers.KVM)
    void thisHostsKeyNamesItsBootItsKernelAndItsKvmDevice() throws Exception {
        Tiers.assumeKvm();

        Optional<ProbeVerdictFile> file = ProbeVerdictFile.forHost(IrqchipProbe.KEPT, Kvm.DEVICE);

        String bootId =
                Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        assertThat(file)
                .hasValueSatisfying(kept -> assertThat(kept.hostKey())
                        .contains(
                                "probe irqchip revision " + IrqchipProbe.KEPT.revision(),
                                "boot " + bootId,
                                "; modules ",
                                "/dev/kvm inode "));
    }
}
