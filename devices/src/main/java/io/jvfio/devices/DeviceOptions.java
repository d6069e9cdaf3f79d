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
 * entropy stream ({@code --seed}), for {@code virtio-rng}. A model refuses an option that is not its own, so
 * a user's typo in the model name does not silently drop an option.
 */
public record DeviceOptions(OptionalInt irqs, OptionalInt levelMask, Optional<Path> serialSocket, OptionalLong seed) {
    /** The test device's default number of IRQ lines. */
    public static final int DEFAULT_IRQS = 4;

    public DeviceOptions {
        Objects.requireNonNull(irqs, "irqs");
        Objects.requireNonNull(levelMask, "levelMask");
        Objects.requireNonNull(serialSocket, "serialSocket");
        Objects.requireNonNull(seed, "seed");
        if (irqs.isPresent() && irqs.getAsInt() < 1) {
            throw new IllegalArgumentException("--irqs must be at least 1, not " + irqs.getAsInt());
        }
    }

    /** No option given: every model's defaults. */
    public static DeviceOptions defaults() {
        return new DeviceOptions(OptionalInt.empty(), OptionalInt.empty(), Optional.empty(), OptionalLong.empty());
    }

    public DeviceOptions withIrqs(int count) {
        return new DeviceOptions(OptionalInt.of(count), levelMask, serialSocket, seed);
    }

    public DeviceOptions withLevelMask(int mask) {
        return new DeviceOptions(irqs, OptionalInt.of(mask), serialSocket, seed);
    }

    public DeviceOptions withSerialSocket(Path path) {
        return new DeviceOptions(irqs, levelMask, Optional.of(path), seed);
    }

    public DeviceOptions withSeed(long value) {
        return new DeviceOptions(irqs, levelMask, serialSocket, OptionalLong.of(value));
    }
}
