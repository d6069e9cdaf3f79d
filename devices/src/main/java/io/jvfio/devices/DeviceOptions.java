package io.jvfio.devices;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How to build a catalog device, each option empty unless the user gave it: the number of IRQ lines and
 * which of them are level-triggered (bit i set: line i is level), for the test device; the Unix socket
 * that is a UART's far end ({@code --serial-socket}), for {@code ns16550a}; the seed of a reproducible
 * entropy stream ({@code --seed}), for {@code virtio-rng}; the backing file ({@code --file}) and whether the
 * guest may only read it ({@code --read-only}), for {@code virtio-blk}. A model refuses an option that is not its own, so
 * a user's typo in the model name does not silently drop an option.
 */
public record DeviceOptions(
        OptionalInt irqs,
        OptionalInt levelMask,
        Optional<Path> serialSocket,
        OptionalLong seed,
        Optional<Path> file,
        boolean readOnly) {
    /** The test device's default number of IRQ lines. */
    public static final int DEFAULT_IRQS = 4;

    public DeviceOptions {
        Objects.requireNonNull(irqs, "irqs");
        Objects.requireNonNull(levelMask, "levelMask");
        Objects.requireNonNull(serialSocket, "serialSocket");
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(file, "file");
        if (irqs.isPresent() && irqs.getAsInt() < 1) {
            throw new IllegalArgumentException("--irqs must be at least 1, not " + irqs.getAsInt());
        }
    }

    /** No option given: every model's defaults. */
    public static DeviceOptions defaults() {
        return new DeviceOptions(
                OptionalInt.empty(),
                OptionalInt.empty(),
                Optional.empty(),
                OptionalLong.empty(),
                Optional.empty(),
                false);
    }

    public DeviceOptions withIrqs(int count) {
        return new DeviceOptions(OptionalInt.of(count), levelMask, serialSocket, seed, file, readOnly);
    }

    public DeviceOptions withLevelMask(int mask) {
        return new DeviceOptions(irqs, OptionalInt.of(mask), serialSocket, seed, file, readOnly);
    }

    public DeviceOptions withSerialSocket(Path path) {
        return new DeviceOptions(irqs, levelMask, Optional.of(path), seed, file, readOnly);
    }

    public DeviceOptions withSeed(long value) {
        return new DeviceOptions(irqs, levelMask, serialSocket, OptionalLong.of(value), file, readOnly);
    }

    public DeviceOptions withFile(Path path) {
        return new DeviceOptions(irqs, levelMask, serialSocket, seed, Optional.of(path), readOnly);
    }

    public DeviceOptions withReadOnly() {
        return new DeviceOptions(irqs, levelMask, serialSocket, seed, file, true);
    }

    /** Whether {@code --file} or {@code --read-only} was given, which only virtio-blk takes. */
    public boolean hasBackingFile() {
        return file.isPresent() || readOnly;
    }
}
