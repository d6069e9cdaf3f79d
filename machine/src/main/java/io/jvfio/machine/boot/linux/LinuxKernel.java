package io.jvfio.machine.boot.linux;

import java.util.Objects;

/**
 * What the user gives to boot Linux, as QEMU's {@code -kernel}, {@code -initrd} and {@code -append}: the
 * kernel image (a bzImage, or an ELF vmlinux with a PVH entry), the initrd's bytes (null: none) and the
 * command line.
 */
public record LinuxKernel(byte[] image, byte[] initrd, String commandLine) {
    public LinuxKernel {
        image = image.clone();
        initrd = initrd == null ? null : initrd.clone();
        Objects.requireNonNull(commandLine, "commandLine");
    }

    @Override
    public byte[] image() {
        return image.clone();
    }

    /** The initrd's bytes, or null for none. */
    @Override
    public byte[] initrd() {
        return initrd == null ? null : initrd.clone();
    }

    /**
     * The image itself, not a copy, for {@link LinuxBoot}, which only reads it: a stock kernel's vmlinux
     * is 65 MB, and each copy of it took about a second of jvfio run's start-up in the nested guest.
     */
    byte[] imageBytes() {
        return image;
    }

    /** The initrd itself (null: none), not a copy, for {@link LinuxBoot}, which only reads it. */
    byte[] initrdBytes() {
        return initrd;
    }
}
