package io.jvfio.kvm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * What a host probe found ({@link IrqchipProbe}, {@link IrqWindowProbe}), kept on disk for later processes,
 * as libvirt keeps what it probed of a QEMU binary: valid for the host it was probed on, which a key names.
 * A probe costs a command milliseconds of its start-up (a VM, a vCPU, a guest run and the vCPU's downcall
 * linked; 20-30 ms for the irqchip's, 9 ms for the window's on a software KVM), and a host's KVM cannot
 * change how it behaves without a reboot or a new module, both of which change the key. An answer that
 * says the probe failed is never kept. Every failure to read or write the file (no home directory, a
 * read-only one, a file from another version, or a damaged one, or not this user's alone) means probing as
 * if there were none.
 *
 * @param file    where the answer is kept
 * @param hostKey what a kept answer must have been probed under: this probe and its revision, this boot,
 *                its kvm modules, this /dev/kvm
 */
record ProbeVerdictFile(Path file, String hostKey) {
    /**
     * A probe's answer as kept: a word for its verdict, one line of evidence and the time the probe took.
     *
     * @param verdict  one word, the probe's own ({@code EXACT}, {@code PROMPT})
     * @param evidence one line, as the probe said it
     * @param elapsed  how long the probe took
     */
    record Kept(String verdict, String evidence, Duration elapsed) {}

    /**
     * A probe whose answer can be kept, and how.
     *
     * @param name     names its file ({@code NAME-verdict}) and is part of the key
     * @param revision changes when the probe's guest or its reading of the evidence does, which voids every
     *                 answer kept before
     * @param keep     the answer as kept; empty for one never to keep (the probe failed)
     * @param read     a kept answer; empty when it does not read as one of this probe's (damage)
     * @param <T>      the probe's answer
     */
    record Probe<T>(String name, int revision, Function<T, Optional<Kept>> keep, Function<Kept, Optional<T>> read) {}

    /** Far beyond what a probe takes (its guest runs are bounded by seconds each); longer is damage. */
    private static final Duration LONGEST_PROBE = Duration.ofHours(1);

    /** A kept answer is a few hundred bytes; a file past this is not one. */
    static final int MAX_BYTES = 64 * 1024;

    /** Owned by this process's user. */
    private static final Path PROCESS = Path.of("/proc/self");

    private static final String HEADER = "jvfio probe verdict";
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_DIRECTORY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final Path PROC = Path.of("/proc");
    private static final Path BOOT_ID = Path.of("sys/kernel/random/boot_id");
    private static final Path KERNEL_RELEASE = Path.of("sys/kernel/osrelease");

    /**
     * {@code probe}'s answer for /dev/kvm: the one an earlier process kept on this host if it reads as one,
     * else {@code run}'s now, which is kept.
     */
    static <T> T keptOrProbedOnThisHost(Probe<T> probe, Supplier<T> run) {
        return forHost(probe, Kvm.DEVICE)
                .map(file -> file.keptOrProbed(probe, run))
                .orElseGet(run);
    }

    /** {@code run}'s answer now, whatever was kept, kept for later processes. */
    static <T> T probedAgainOnThisHost(Probe<T> probe, Supplier<T> run) {
        T probed = run.get();
        forHost(probe, Kvm.DEVICE).ifPresent(file -> file.store(probe, probed));
        return probed;
    }

    /** The answer kept in this file if it reads as one of {@code probe}'s, else {@code run}'s now, which is kept. */
    <T> T keptOrProbed(Probe<T> probe, Supplier<T> run) {
        return load().flatMap(probe.read()).orElseGet(() -> {
            T probed = run.get();
            store(probe, probed);
            return probed;
        });
    }

    /**
     * {@code probe}'s file for {@code device} on this host, under {@code $XDG_CACHE_HOME/jvfio} or
     * {@code ~/.cache/jvfio}; empty when there is no cache directory or the key cannot be read.
     */
    static Optional<ProbeVerdictFile> forHost(Probe<?> probe, Path device) {
        String xdg = System.getenv("XDG_CACHE_HOME");
        String home = System.getProperty("user.home");
        Path directory;
        if (xdg != null && !xdg.isEmpty()) {
            directory = Path.of(xdg, "jvfio");
        } else if (home != null && !home.isEmpty() && !home.equals("?")) {
            directory = Path.of(home, ".cache", "jvfio");
        } else {
            return Optional.empty();
        }
        return forHost(probe, device, PROC, directory);
    }

    /**
     * {@code probe}'s file in {@code directory} for {@code device}, keyed by what {@code proc} (procfs) says
     * of this host.
     */
    static Optional<ProbeVerdictFile> forHost(Probe<?> probe, Path device, Path proc, Path directory) {
        try {
            // The device node is made anew, with a new inode and change time, when its module is loaded.
            Object inode = Files.getAttribute(device, "unix:ino");
            FileTime changed = (FileTime) Files.getAttribute(device, "unix:ctime");
            String key = "probe " + probe.name() + " revision " + probe.revision()
                    + "; boot " + Files.readString(proc.resolve(BOOT_ID)).strip()
                    + "; kernel "
                    + Files.readString(proc.resolve(KERNEL_RELEASE)).strip()
                    + "; modules " + kvmModules(proc.resolve("modules"))
                    // Nanoseconds, not an Instant: printing one initialised java.time's formatters, 5 ms of
                    // every command's start.
                    + "; " + device + " inode " + inode + " changed " + changed.to(TimeUnit.NANOSECONDS) + " ns";
            return Optional.of(new ProbeVerdictFile(directory.resolve(probe.name() + "-verdict"), key));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * The loaded modules named kvm*, each with its size, sorted. A node that is not devtmpfs's (a container's
     * /dev/kvm made by mknod, or one bind-mounted from the host) keeps its inode and change time when the host
     * swaps kvm_intel for kvm_pvm, which changes the irqchip's behaviour without a reboot; the modules tell.
     * Not the use count, which changes with every open /dev/kvm. Without module support there are none to swap.
     */
    private static String kvmModules(Path modules) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(modules);
        } catch (NoSuchFileException e) {
            return "built in";
        }
        return lines.stream()
                .map(line -> line.split(" ", 3))
                .filter(fields -> fields.length >= 2 && fields[0].startsWith("kvm"))
                .map(fields -> fields[0] + " " + fields[1])
                .sorted()
                .collect(Collectors.joining(", "));
    }

    /**
     * The answer kept for this key, with " (kept from an earlier probe on this boot: FILE)" after its
     * evidence; the probe reads its verdict.
     */
    Optional<Kept> load() {
        List<String> lines;
        // Read only a regular file, and only so much of it: a FIFO left there would block the read (and the
        // command) forever, and /dev/zero or a huge file would fill the heap. And only a file this user wrote,
        // as store does (0600): one that another user owns or may write, where XDG_CACHE_HOME is shared, could
        // name any verdict under this host's key, which anyone can read.
        // The directory too: where another user may write it, they can replace a file that passed these checks
        // before it is opened.
        try {
            UserPrincipal me = Files.getOwner(PROCESS);
            PosixFileAttributes directory = Files.readAttributes(file.getParent(), PosixFileAttributes.class);
            PosixFileAttributes attributes = Files.readAttributes(file, PosixFileAttributes.class);
            if (!directory.isDirectory()
                    || !onlyOwnerWrites(directory, me)
                    || !attributes.isRegularFile()
                    || !onlyOwnerWrites(attributes, me)) {
                return Optional.empty();
            }
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                return Optional.empty();
            }
            lines = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(bytes))
                    .toString()
                    .lines()
                    .toList();
        } catch (IOException e) {
            return Optional.empty();
        }
        if (lines.size() != 5 || !lines.get(0).equals(HEADER) || !lines.get(1).equals(hostKey)) {
            return Optional.empty();
        }
        try {
            Duration elapsed = Duration.parse(lines.get(4));
            // A time no probe takes is a damaged file: negative, it misleads; past 292 years, printing the
            // verdict (in nanoseconds) throws.
            if (elapsed.isNegative() || elapsed.compareTo(LONGEST_PROBE) > 0) {
                return Optional.empty();
            }
            return Optional.of(new Kept(
                    lines.get(2), lines.get(3) + " (kept from an earlier probe on this boot: " + file + ")", elapsed));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static boolean onlyOwnerWrites(PosixFileAttributes attributes, UserPrincipal owner) {
        Set<PosixFilePermission> permissions = attributes.permissions();
        return attributes.owner().equals(owner)
                && !permissions.contains(PosixFilePermission.GROUP_WRITE)
                && !permissions.contains(PosixFilePermission.OTHERS_WRITE);
    }

    /**
     * Keeps {@code answer} for this key, unless {@code probe} says never to keep it, replacing the file
     * whole (a reader never sees half of it); a file that cannot be written is left alone.
     */
    <T> void store(Probe<T> probe, T answer) {
        Optional<Kept> kept = probe.keep().apply(answer);
        if (kept.isEmpty()
                || kept.get().verdict().contains("\n")
                || kept.get().evidence().contains("\n")) {
            return;
        }
        String text = String.join(
                "\n",
                HEADER,
                hostKey,
                kept.get().verdict(),
                kept.get().evidence(),
                kept.get().elapsed().toString());
        try {
            // Owner-only, as load wants it: under a umask of 002 a group-writable directory would keep a
            // verdict no later process reads.
            Files.createDirectories(file.getParent(), OWNER_ONLY_DIRECTORY);
            Path temporary =
                    Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
            try {
                Files.writeString(temporary, text + "\n", StandardCharsets.UTF_8);
                try {
                    Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temporary);
            }
        } catch (IOException e) {
            // Not kept: the next process probes again, as it would without a cache directory.
        }
    }
}
