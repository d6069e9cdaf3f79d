package io.jvfio.sys.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The test tiers (JUnit tags) and their preconditions. A tier whose hardware is absent skips loudly:
 * the reason is printed, not hidden.
 */
public final class Tiers {
    /** Needs /dev/kvm. */
    public static final String KVM = "kvm";
    /** Starts child processes. */
    public static final String PROCESS = "process";
    /** Needs a real kernel VFIO device. */
    public static final String VFIO = "vfio";
    /**
     * Sustained interrupt storms. The nested guest's KVM (under TCG's emulation of SVM) has panicked with a
     * corrupted kernel stack during them when QEMU ran each vCPU on a host thread of its own, so
     * tools/nested/tiers.sh runs them in a guest of their own with one thread for all vCPUs.
     */
    public static final String STORM = "storm";
    /**
     * Boots Debian's stock kernel: needs a KVM that runs unmodified guest code, which a software KVM such as
     * kvm_pvm is not (its instruction emulator fails on the kernel's int3), so in practice the nested
     * guest's ({@code tools/nested/tiers.sh linux}).
     */
    public static final String LINUX = "linux";

    private Tiers() {}

    public static boolean kvmAvailable() {
        return Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"));
    }

    /** Skips the calling test, with a message on stderr, when /dev/kvm is missing. */
    public static void assumeKvm() {
        if (!kvmAvailable()) {
            System.err.println("SKIPPED (tier kvm): /dev/kvm is not available on this machine");
        }
        Assumptions.assumeTrue(kvmAvailable(), "/dev/kvm is not available on this machine");
    }

    /** Skips the calling test, with a message on stderr, when there is no kernel VFIO. */
    public static void assumeVfio() {
        boolean present = Files.exists(Path.of("/dev/vfio/vfio")) || Files.exists(Path.of("/dev/iommu"));
        if (!present) {
            System.err.println("SKIPPED (tier vfio): this kernel has no VFIO (/dev/vfio/vfio, /dev/iommu absent)");
        }
        Assumptions.assumeTrue(present, "this kernel has no VFIO");
    }
}
