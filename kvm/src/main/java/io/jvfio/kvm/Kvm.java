package io.jvfio.kvm;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.kvm.KvmAbi;
import io.jvfio.sys.kvm.KvmIoctls;
import io.jvfio.sys.kvm.vcpu.CpuidEntry;
import java.nio.file.Path;
import java.util.List;

/** The opened /dev/kvm: API version, capabilities, the vCPU mmap size, supported CPUID, and VM creation. */
public final class Kvm implements AutoCloseable {
    /** Where the kernel's KVM device lives. */
    public static final Path DEVICE = Path.of("/dev/kvm");

    private final Fd fd;
    private final int vcpuMmapSize;

    private Kvm(Fd fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /** Opens /dev/kvm and checks its API version. */
    public static Kvm open() throws KvmUnavailableException, ErrnoException {
        return open(DEVICE);
    }

    /** Opens a KVM device node at {@code device} (tests pass a missing path to see the error). */
    public static Kvm open(Path device) throws KvmUnavailableException, ErrnoException {
        Fd fd;
        try {
            fd = Fd.openReadWrite(device.toString());
        } catch (ErrnoException e) {
            String hint = switch (e.errno()) {
                case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO ->
                    "the kernel has no KVM device here (load kvm_intel or kvm_amd, or run on a host with virtualization)";
                case Errno.EACCES, Errno.EPERM -> "no permission: join the kvm group or run with access to the device";
                default -> "it cannot be opened";
            };
            throw new KvmUnavailableException(
                    "KVM is not available: " + device + ": " + Errno.describe(e.errno()) + " (" + Errno.name(e.errno())
                            + "); " + hint,
                    e);
        }
        try {
            int version = KvmIoctls.getApiVersion(fd);
            if (version != KvmAbi.KVM_API_VERSION) {
                throw new KvmUnavailableException(
                        "KVM is not available: " + device + " speaks API version " + version + ", jvfio needs "
                                + KvmAbi.KVM_API_VERSION,
                        null);
            }
            return new Kvm(fd, KvmIoctls.getVcpuMmapSize(fd));
        } catch (KvmUnavailableException | ErrnoException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** KVM_GET_API_VERSION. */
    public int apiVersion() throws ErrnoException {
        return KvmIoctls.getApiVersion(fd);
    }

    /** KVM_CHECK_EXTENSION on /dev/kvm, as a yes/no. */
    public boolean hasCapability(Cap capability) throws ErrnoException {
        return KvmIoctls.checkExtension(fd, capability.number()) > 0;
    }

    /** KVM_GET_VCPU_MMAP_SIZE (read once at open). */
    public int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    /** KVM_GET_SUPPORTED_CPUID. */
    public List<CpuidEntry> supportedCpuid() throws ErrnoException {
        return KvmIoctls.getSupportedCpuid(fd);
    }

    /** KVM_CREATE_VM: a new VM, which the caller closes (before this Kvm). */
    public Vm createVm() throws ErrnoException {
        return new Vm(this, KvmIoctls.createVm(fd));
    }

    @Override
    public void close() {
        fd.close();
    }
}
