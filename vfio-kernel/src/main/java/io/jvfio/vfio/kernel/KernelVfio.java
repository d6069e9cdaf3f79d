package io.jvfio.vfio.kernel;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.iommufd.IommufdIoctls;
import io.jvfio.sys.vfio.VfioAbi;
import io.jvfio.sys.vfio.VfioIoctls;
import io.jvfio.vfio.IommufdMode;
import io.jvfio.vfio.VfioException;
import io.jvfio.vfio.kernel.DiscoveryException.Problem;
import io.jvfio.vfio.kernel.DmaSpace.IommufdIoas;
import io.jvfio.vfio.kernel.DmaSpace.Type1Container;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The kernel VFIO state of one VM: the devices attached to it, the groups they came through and the
 * containers those groups share (legacy path), and the one iommufd I/O address space the devices opened
 * through their cdev are attached to; each device takes the path its own {@link IommufdMode} selects.
 * Groups and containers are shared between devices and released in the right order when the last device
 * using them closes: device, then group, then container. Refuses a device attached twice. Thread-safe;
 * closing closes every device still open, newest first.
 */
public final class KernelVfio implements AutoCloseable {
    /** Where to look: the sysfs root, the {@code /dev} root; and the {@code iommufd} mode of an open that names none. */
    public record Options(Path sysfsRoot, Path devRoot, IommufdMode iommufd) {
        public static Options defaults() {
            return new Options(SysfsDiscovery.DEFAULT_SYSFS_ROOT, Path.of("/dev"), IommufdMode.AUTO);
        }

        public Options withSysfsRoot(Path root) {
            return new Options(root, devRoot, iommufd);
        }

        public Options withIommufd(IommufdMode mode) {
            return new Options(sysfsRoot, devRoot, mode);
        }
    }

    /** How a device was opened. */
    public enum Backend {
        /** A group in a {@code /dev/vfio/vfio} type1 container. */
        LEGACY_CONTAINER,
        /** The device cdev bound to {@code /dev/iommu}. */
        IOMMUFD
    }

    /** A {@code /dev/vfio/N} group: shared by the VM's devices in it, in one container. */
    static final class Group {
        final int id;
        final Fd fd;
        final Type1Container container;
        int devices;

        Group(int id, Fd fd, Type1Container container) {
            this.id = id;
            this.fd = fd;
            this.container = container;
        }
    }

    private final Options options;
    private final SysfsDiscovery discovery;
    private final Map<Path, KernelVfioDevice> devices = new LinkedHashMap<>();
    private final Map<Integer, Group> groups = new HashMap<>();
    private final List<Type1Container> containers = new ArrayList<>();
    private IommufdIoas ioas;
    private boolean closed;

    private KernelVfio(Options options) {
        this.options = options;
        this.discovery = new SysfsDiscovery(options.sysfsRoot());
    }

    public static KernelVfio create(Options options) {
        return new KernelVfio(options);
    }

    /** With {@code /sys}, {@code /dev} and {@code iommufd=auto}. */
    public static KernelVfio create() {
        return new KernelVfio(Options.defaults());
    }

    public Options options() {
        return options;
    }

    /** {@code host=NAME}: opens a platform device. */
    public KernelVfioDevice openHost(String name) throws VfioException {
        return open(discovery.byHost(name));
    }

    /** {@code host=NAME}, through the interface {@code mode} selects for this device. */
    public KernelVfioDevice openHost(String name, IommufdMode mode) throws VfioException {
        return open(discovery.byHost(name), mode);
    }

    /** Opens a device of any bus by name (e.g. {@code pci}, {@code 0000:00:01.0}). */
    public KernelVfioDevice openHost(String bus, String name) throws VfioException {
        return open(discovery.byHost(bus, name));
    }

    /** {@code sysfsdev=PATH}. */
    public KernelVfioDevice openSysfsdev(Path sysfsdev) throws VfioException {
        return open(discovery.bySysfsPath(sysfsdev));
    }

    /** {@code sysfsdev=PATH}, through the interface {@code mode} selects for this device. */
    public KernelVfioDevice openSysfsdev(Path sysfsdev, IommufdMode mode) throws VfioException {
        return open(discovery.bySysfsPath(sysfsdev), mode);
    }

    /** Opens a discovered device through the interface {@link Options#iommufd()} selects. */
    public KernelVfioDevice open(SysfsDevice device) throws VfioException {
        return open(device, options.iommufd());
    }

    /**
     * Opens a discovered device through the interface {@code mode} selects. The mode is each device's own
     * ({@code iommufd=} is a device property), while the groups, containers and IOAS are the VM's: a device
     * of a group this VM already holds must find that group whatever its own mode says.
     */
    public synchronized KernelVfioDevice open(SysfsDevice device, IommufdMode mode) throws VfioException {
        if (closed) {
            throw new IllegalStateException("kernel VFIO state of this VM is closed");
        }
        String name = device.name();
        if (devices.containsKey(device.realPath())) {
            throw new DiscoveryException(
                    name, Problem.ALREADY_ATTACHED, device.path(), "device is already attached: " + device.path());
        }
        KernelVfioDevice opened = switch (chooseBackend(device, mode)) {
            case LEGACY_CONTAINER -> openLegacy(device);
            case IOMMUFD -> openIommufd(device);
        };
        devices.put(device.realPath(), opened);
        return opened;
    }

    /** The names of the devices attached now, in opening order. */
    public synchronized List<String> attachedDevices() {
        return devices.values().stream().map(KernelVfioDevice::name).toList();
    }

    /** Open groups, containers and IOASes: for tests of sharing and release order. */
    synchronized int openGroups() {
        return groups.size();
    }

    synchronized int openContainers() {
        return containers.size();
    }

    private Path dev(String first, String... more) {
        return options.devRoot().resolve(Path.of(first, more));
    }

    private Backend chooseBackend(SysfsDevice device, IommufdMode mode) throws VfioException {
        String name = device.name();
        Path container = dev("vfio", "vfio");
        Path iommu = dev("iommu");
        boolean legacy = Files.exists(container);
        boolean iommufd = Files.exists(iommu);
        if (!legacy && !iommufd) {
            throw new VfioUnavailableException(
                    name,
                    "kernel VFIO is not available: no " + container + " and no " + iommu
                            + " (load the vfio and vfio_iommu_type1 or iommufd modules, or use a kernel with VFIO)");
        }
        Optional<Path> cdev = device.vfioCdev().map(n -> dev("vfio", "devices", n));
        boolean cdevUsable = cdev.isPresent() && Files.exists(cdev.get());
        return switch (mode) {
            case ON -> {
                if (!iommufd) {
                    throw new VfioUnavailableException(name, "iommufd=on but there is no " + iommu);
                }
                if (!cdevUsable) {
                    throw new VfioException(
                            name,
                            "iommufd=on but the device has no VFIO cdev: "
                                    + cdev.map(p -> "no " + p)
                                            .orElse("no " + device.path().resolve("vfio-dev"))
                                    + " (it needs Linux 6.6+ with VFIO_DEVICE_CDEV and the device bound to a VFIO driver)");
                }
                yield Backend.IOMMUFD;
            }
            case OFF -> {
                if (!legacy) {
                    throw new VfioUnavailableException(
                            name,
                            "iommufd=off but there is no " + container + " (legacy VFIO container); try iommufd=on");
                }
                yield Backend.LEGACY_CONTAINER;
            }
            case AUTO ->
                autoBackend(groups.containsKey(device.iommuGroup()), iommufd && cdevUsable, legacy)
                        .orElseThrow(() -> new VfioException(
                                name,
                                "no " + container + " (legacy VFIO container) and the device has no VFIO cdev under "
                                        + device.path().resolve("vfio-dev") + " for " + iommu));
        };
    }

    /**
     * What {@code iommufd=auto} opens a device through, given whether this VM holds the device's group in
     * a container already, whether the device has a cdev and {@code /dev/iommu} exists, and whether the
     * container node exists; empty when there is no way in. A held group comes first: the kernel opens no
     * cdev of a device whose group is open (EBUSY), while the held group hands out the device's fd.
     */
    static Optional<Backend> autoBackend(boolean groupHeld, boolean cdevUsable, boolean containerExists) {
        if (groupHeld) {
            return Optional.of(Backend.LEGACY_CONTAINER);
        }
        if (cdevUsable) {
            return Optional.of(Backend.IOMMUFD);
        }
        return containerExists ? Optional.of(Backend.LEGACY_CONTAINER) : Optional.empty();
    }

    private KernelVfioDevice openLegacy(SysfsDevice device) throws VfioException {
        String name = device.name();
        Group group = groups.get(device.iommuGroup());
        boolean newGroup = group == null;
        if (newGroup) {
            group = openGroup(device);
            groups.put(group.id, group);
        }
        Fd fd;
        try {
            fd = VfioIoctls.groupGetDeviceFd(group.fd, name);
        } catch (ErrnoException e) {
            if (group.devices == 0) {
                closeGroup(group);
            }
            throw new VfioException(name, "failed to get the device fd from group " + group.id, e);
        }
        group.devices++;
        return new KernelVfioDevice(this, device, fd, Backend.LEGACY_CONTAINER, group.container, group);
    }

    private Group openGroup(SysfsDevice device) throws VfioException {
        String name = device.name();
        int id = device.iommuGroup();
        Path path = dev("vfio", Integer.toString(id));
        Path noIommu = dev("vfio", "noiommu-" + id);
        if (!Files.exists(path) && Files.exists(noIommu)) {
            // The device is bound to VFIO; telling the user to bind it would send them round in circles.
            throw new VfioUnavailableException(
                    name,
                    "group " + id + " is a no-IOMMU group (" + noIommu + "): the device's DMA would reach all of"
                            + " host memory, and jvfio assigns a device only behind an IOMMU (type1 or iommufd)");
        }
        if (!Files.exists(path)) {
            throw new VfioException(
                    name,
                    "group " + id + " is not available: no " + path + " (is " + name
                            + " bound to a VFIO driver? see 'jvfio bind " + name + "')");
        }
        Fd fd;
        try {
            fd = Fd.openReadWrite(path.toString());
        } catch (ErrnoException e) {
            String why = e.errno() == Errno.EBUSY ? groupBusy(id) : "";
            throw new VfioException(name, "failed to open group " + id + why, e);
        }
        try {
            int status;
            try {
                status = VfioIoctls.groupGetStatus(fd);
            } catch (ErrnoException e) {
                throw new VfioException(name, path + " is not a VFIO group", e);
            }
            if ((status & VfioAbi.VFIO_GROUP_FLAGS_VIABLE) == 0) {
                throw new VfioException(
                        name,
                        "group " + id + " is not viable: every device in "
                                + options.sysfsRoot().resolve("kernel/iommu_groups/" + id + "/devices")
                                + " must be bound to a VFIO driver or none");
            }
            Type1Container container = attachToContainer(name, id, fd);
            return new Group(id, fd, container);
        } catch (VfioException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** Puts a group in an existing container if the kernel accepts it there, else in a new one. */
    private Type1Container attachToContainer(String name, int groupId, Fd groupFd) throws VfioException {
        for (Type1Container container : containers) {
            try {
                VfioIoctls.groupSetContainer(groupFd, container.fd);
                container.retain();
                return container;
            } catch (ErrnoException e) {
                // Not compatible with that container's IOMMU: try the next, then a new one.
            }
        }
        Path path = dev("vfio", "vfio");
        Fd fd;
        try {
            fd = Fd.openReadWrite(path.toString());
        } catch (ErrnoException e) {
            throw new VfioException(name, "failed to open the VFIO container " + path, e);
        }
        try {
            int version;
            try {
                version = VfioIoctls.getApiVersion(fd);
            } catch (ErrnoException e) {
                throw new VfioException(name, path + " is not a VFIO container", e);
            }
            if (version != VfioAbi.VFIO_API_VERSION) {
                throw new VfioException(
                        name,
                        "unsupported VFIO API version " + version + " (jvfio speaks " + VfioAbi.VFIO_API_VERSION + ")");
            }
            int type = iommuType(name, fd);
            try {
                VfioIoctls.groupSetContainer(groupFd, fd);
            } catch (ErrnoException e) {
                throw new VfioException(name, "failed to set the container of group " + groupId, e);
            }
            try {
                VfioIoctls.setIommu(fd, type);
            } catch (ErrnoException e) {
                unsetContainer(groupFd);
                String hint = e.errno() == Errno.EPERM
                        ? " (without interrupt remapping vfio_iommu_type1 refuses the"
                                + " group unless loaded with allow_unsafe_interrupts=1)"
                        : "";
                throw new VfioException(name, "failed to set the IOMMU type of the container" + hint, e);
            }
            Type1Container container = new Type1Container(fd, type);
            container.retain();
            containers.add(container);
            return container;
        } catch (VfioException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private static int iommuType(String name, Fd container) throws VfioException {
        try {
            if (VfioIoctls.checkExtension(container, VfioAbi.VFIO_TYPE1v2_IOMMU) > 0) {
                return VfioAbi.VFIO_TYPE1v2_IOMMU;
            }
            if (VfioIoctls.checkExtension(container, VfioAbi.VFIO_TYPE1_IOMMU) > 0) {
                return VfioAbi.VFIO_TYPE1_IOMMU;
            }
        } catch (ErrnoException e) {
            throw new VfioException(name, "failed to check the container's IOMMU extensions", e);
        }
        throw new VfioException(
                name,
                "the VFIO container supports neither VFIO_TYPE1v2_IOMMU nor VFIO_TYPE1_IOMMU"
                        + " (is vfio_iommu_type1 loaded?)");
    }

    private KernelVfioDevice openIommufd(SysfsDevice device) throws VfioException {
        String name = device.name();
        Path cdev = dev("vfio", "devices", device.vfioCdev().orElseThrow());
        boolean newIoas = ioas == null;
        if (newIoas) {
            ioas = openIoas(name);
        }
        Fd fd;
        try {
            fd = Fd.openReadWrite(cdev.toString());
        } catch (ErrnoException e) {
            releaseIoasIfUnused();
            String why = e.errno() == Errno.EBUSY ? cdevBusy(device.iommuGroup()) : "";
            throw new VfioException(name, "failed to open the device cdev " + cdev + why, e);
        }
        try {
            VfioIoctls.deviceBindIommufd(fd, ioas.iommufd);
            VfioIoctls.deviceAttachIommufdPt(fd, ioas.ioasId);
        } catch (ErrnoException e) {
            fd.close();
            releaseIoasIfUnused();
            throw new VfioException(name, "failed to attach " + cdev + " to iommufd IOAS", e);
        }
        ioas.retain();
        return new KernelVfioDevice(this, device, fd, Backend.IOMMUFD, ioas, null);
    }

    /*
     * The kernel keeps the two ways into a group apart: it opens a group once at a time and not while a
     * device of it is open through its cdev, and it opens no cdev while the device's group is open
     * (drivers/vfio/group.c, device_cdev.c). EBUSY says one of these, not which or whose; what this VM
     * holds, it can name.
     */
    private String groupBusy(int group) {
        List<String> throughCdev = attachedIn(group, Backend.IOMMUFD);
        if (!throughCdev.isEmpty()) {
            return " (this VM has " + String.join(", ", throughCdev) + " of group " + group
                    + " open through its VFIO cdev, and the kernel opens no group while one of its devices is"
                    + " open so: open every device of the group the same way, e.g. all with iommufd=off)";
        }
        return " (the kernel opens a group once at a time, and not while one of its devices is open through"
                + " its VFIO cdev: another process, or another VM in this process, has group " + group
                + " or one of its devices open)";
    }

    private String cdevBusy(int group) {
        if (groups.containsKey(group)) {
            return " (this VM has group " + group + " open for "
                    + String.join(", ", attachedIn(group, Backend.LEGACY_CONTAINER))
                    + ", and the kernel opens no device's VFIO cdev while its group is open: open every device"
                    + " of the group the same way, e.g. all with iommufd=off)";
        }
        return " (the kernel opens no device's VFIO cdev while its group is open: another process, or another VM in"
                + " this process, has group " + group + " open)";
    }

    private List<String> attachedIn(int group, Backend backend) {
        return devices.values().stream()
                .filter(d -> d.backend() == backend && d.sysfs().iommuGroup() == group)
                .map(KernelVfioDevice::name)
                .toList();
    }

    private IommufdIoas openIoas(String name) throws VfioException {
        Path path = dev("iommu");
        Fd fd;
        try {
            fd = Fd.openReadWrite(path.toString());
        } catch (ErrnoException e) {
            throw new VfioException(name, "failed to open " + path, e);
        }
        try {
            return new IommufdIoas(fd, IommufdIoctls.ioasAlloc(fd));
        } catch (ErrnoException e) {
            fd.close();
            throw new VfioException(name, "failed to allocate an I/O address space on " + path, e);
        }
    }

    private void releaseIoasIfUnused() {
        if (ioas != null && ioas.users() == 0) {
            ioas.release();
            ioas = null;
        }
    }

    /** Called once by a closing device, after its DMA maps are gone and its fd is closed. */
    synchronized void released(KernelVfioDevice device, Group group, DmaSpace space) {
        devices.remove(device.sysfs().realPath());
        if (group != null) {
            if (--group.devices == 0) {
                closeGroup(group);
            }
        } else if (space.release() && space == ioas) {
            ioas = null;
        }
    }

    private void closeGroup(Group group) {
        groups.remove(group.id);
        unsetContainer(group.fd);
        group.fd.close();
        if (group.container.release()) {
            containers.remove(group.container);
        }
    }

    private static void unsetContainer(Fd group) {
        try {
            VfioIoctls.groupUnsetContainer(group);
        } catch (ErrnoException e) {
            // Closing the group fd detaches it from the container as well.
            System.getLogger(KernelVfio.class.getName()).log(System.Logger.Level.DEBUG, e.getMessage());
        }
    }

    /** Closes every device still open (newest first), then their groups and containers. */
    @Override
    public void close() {
        List<KernelVfioDevice> open;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            open = new ArrayList<>(devices.values());
        }
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }
}
