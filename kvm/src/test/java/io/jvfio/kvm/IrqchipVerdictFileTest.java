package io.jvfio.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jvfio.sys.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IrqchipVerdictFileTest {
    private static final IrqchipSemantics EOI_AT_DELIVERY = new IrqchipSemantics(
            IrqchipSemantics.Verdict.EOI_AT_DELIVERY, "LAPIC ISR 0 (documented 1)", Duration.ofMillis(7));

    @TempDir
    Path directory;

    @Test
    void aKeptVerdictIsReadBackUnderTheSameKeySayingWhereItCameFrom() {
        IrqchipVerdictFile file = new IrqchipVerdictFile(directory.resolve("jvfio/irqchip-verdict"), "boot A");

        file.store(EOI_AT_DELIVERY);
        Optional<IrqchipSemantics> kept = file.load();

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
        new IrqchipVerdictFile(path, "boot A").store(EOI_AT_DELIVERY);

        assertThat(new IrqchipVerdictFile(path, "boot B").load()).isEmpty();
    }

    @Test
    void aFailedProbeIsNeverKept() {
        Path path = directory.resolve("irqchip-verdict");
        IrqchipVerdictFile file = new IrqchipVerdictFile(path, "boot A");
        file.store(EOI_AT_DELIVERY);

        file.store(new IrqchipSemantics(IrqchipSemantics.Verdict.PROBE_FAILED, "no /dev/kvm", Duration.ZERO));

        assertThat(file.load()).map(IrqchipSemantics::verdict).contains(IrqchipSemantics.Verdict.EOI_AT_DELIVERY);
    }

    @Test
    void aDamagedFileReadsAsNoneAndTheNextProbeReplacesIt() throws Exception {
        Path path = directory.resolve("irqchip-verdict");
        IrqchipVerdictFile file = new IrqchipVerdictFile(path, "boot A");
        Files.writeString(path, "jvfio in-kernel irqchip verdict\nboot A\nMAYBE\nevidence\nPT0.007S\n");
        assertThat(file.load()).isEmpty();

        file.store(new IrqchipSemantics(IrqchipSemantics.Verdict.EXACT, "as documented", Duration.ofMillis(3)));

        assertThat(file.load()).map(IrqchipSemantics::verdict).contains(IrqchipSemantics.Verdict.EXACT);
        try (var left = Files.list(directory)) {
            assertThat(left).containsExactly(path);
        }
    }

    @Test
    void aKeptProbeTimeNoProbeCouldTakeReadsAsNone() throws Exception {
        Path path = directory.resolve("irqchip-verdict");
        IrqchipVerdictFile file = new IrqchipVerdictFile(path, "boot A");

        for (String elapsed : new String[] {"PT-0.007S", "PT9999999999H"}) {
            Files.writeString(path, "jvfio in-kernel irqchip verdict\nboot A\nEXACT\nas documented\n" + elapsed + "\n");

            assertThat(file.load()).as(elapsed).isEmpty();
        }
    }

    @Test
    void aFileThatIsNotARegularOneReadsAsNoneAtOnce() throws Exception {
        Path path = Files.createSymbolicLink(directory.resolve("irqchip-verdict"), Path.of("/dev/zero"));
        IrqchipVerdictFile file = new IrqchipVerdictFile(path, "boot A");

        assertThat(assertTimeoutPreemptively(Duration.ofSeconds(5), file::load)).isEmpty();
    }

    @Test
    void anOversizedFileReadsAsNone() throws Exception {
        Path path = directory.resolve("irqchip-verdict");
        IrqchipVerdictFile file = new IrqchipVerdictFile(path, "boot A");
        String padding = " ".repeat(IrqchipVerdictFile.MAX_BYTES);
        Files.writeString(
                path, "jvfio in-kernel irqchip verdict\nboot A\nEXACT\nas documented" + padding + "\nPT0.003S\n");

        assertThat(file.load()).isEmpty();
    }

    @Test
    void aFileOthersMayWriteReadsAsNone() throws Exception {
        Path path = directory.resolve("irqchip-verdict");
        IrqchipVerdictFile file = new IrqchipVerdictFile(path, "boot A");
        file.store(EOI_AT_DELIVERY);

        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw--w--w-"));

        assertThat(file.load()).isEmpty();
    }

    @Test
    void aFileInADirectoryOthersMayWriteReadsAsNone() throws Exception {
        // There another user can swap the file for their own, or for a FIFO, between the checks and the read.
        Path shared = Files.createDirectory(directory.resolve("jvfio"));
        IrqchipVerdictFile file = new IrqchipVerdictFile(shared.resolve("irqchip-verdict"), "boot A");
        file.store(EOI_AT_DELIVERY);

        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));

        assertThat(file.load()).isEmpty();
    }

    @Test
    void theDirectoryAStoreMakesIsTheOwnersAloneSoThatALaterLoadReadsIt() throws Exception {
        Path made = directory.resolve("cache/jvfio");
        IrqchipVerdictFile file = new IrqchipVerdictFile(made.resolve("irqchip-verdict"), "boot A");
        file.store(EOI_AT_DELIVERY);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made)))
                .as("made with the process's umask, a group-writable directory would keep a verdict load refuses")
                .isEqualTo("rwx------");
        assertThat(file.load()).isPresent();
    }

    @Test
    void aDirectoryThatCannotBeWrittenKeepsNothingAndThrowsNothing() throws Exception {
        Path notADirectory = Files.writeString(directory.resolve("a-file"), "");
        IrqchipVerdictFile file = new IrqchipVerdictFile(notADirectory.resolve("irqchip-verdict"), "boot A");

        file.store(EOI_AT_DELIVERY);

        assertThat(file.load()).isEmpty();
    }

    @Test
    void aVerdictKeptUnderOneKvmModuleIsNotReadUnderAnotherLoadedBehindTheSameDeviceNode() throws Exception {
        // A container's /dev/kvm, made by mknod: the host swapping its module changes neither inode nor ctime.
        Path device = Files.writeString(directory.resolve("kvm"), "");
        Path proc = procWithModules("kvm_intel 413696 0 - Live 0x0000000000000000\n"
                + "kvm 1404928 1 kvm_intel, Live 0x0000000000000000\n");
        Path cache = directory.resolve("cache");
        IrqchipVerdictFile.forHost(device, proc, cache)
                .orElseThrow()
                .store(new IrqchipSemantics(IrqchipSemantics.Verdict.EXACT, "as documented", Duration.ofMillis(3)));

        Files.writeString(
                proc.resolve("modules"),
                "kvm_intel 413696 2 - Live 0x0000000000000000\n"
                        + "kvm 1404928 3 kvm_intel, Live 0x0000000000000000\n");
        assertThat(IrqchipVerdictFile.forHost(device, proc, cache).orElseThrow().load())
                .as("only the use counts changed")
                .isPresent();

        Files.writeString(
                proc.resolve("modules"),
                "kvm_pvm 98304 0 - Live 0x0000000000000000\n" + "kvm 1404928 1 kvm_pvm, Live 0x0000000000000000\n");
        assertThat(IrqchipVerdictFile.forHost(device, proc, cache).orElseThrow().load())
                .isEmpty();
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

        Optional<IrqchipVerdictFile> file = IrqchipVerdictFile.forHost(Kvm.DEVICE);

        String bootId =
                Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        assertThat(file)
                .hasValueSatisfying(kept -> assertThat(kept.hostKey())
                        .contains(
                                "probe " + IrqchipVerdictFile.PROBE_REVISION,
                                "boot " + bootId,
                                "; modules ",
                                "/dev/kvm inode "));
    }
}
