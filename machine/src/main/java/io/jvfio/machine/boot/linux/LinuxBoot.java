package io.jvfio.machine.boot.linux;

import io.jvfio.machine.boot.InvalidGuestImageException;
import io.jvfio.machine.boot.LongMode;
import io.jvfio.sys.Mapping;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Loads a Linux kernel into guest RAM and says how to enter it. Low memory as Firecracker lays it out:
 * the GDT at 0x500, the long-mode page tables at 0x1000-0x6FFF ({@link LongMode}), the zero page or the
 * hvm_start_info block at 0x7000, the command line at 0x20000 (ending below the stack's page, whatever
 * the kernel's cmdline_size), the stack below 0x80000; the kernel at its
 * preferred address (bzImage) or its segments' physical addresses (vmlinux); the initrd as high in RAM as
 * the kernel accepts, page-aligned, as QEMU and Firecracker place it.
 */
public final class LinuxBoot {
    /** Null, flat 32-bit code (PVH, 0x08), 64-bit code (__BOOT_CS, 0x10), flat data (__BOOT_DS, 0x18). */
    static final long[] GDT = {0, 0x00CF9B000000FFFFL, 0x00AF9B000000FFFFL, 0x00CF93000000FFFFL};

    public static final long BOOT_DATA_ADDRESS = 0x7000;
    public static final long COMMAND_LINE_ADDRESS = 0x20000;
    /**
     * Where the command line's room ends: the page below {@link LongMode#STACK_TOP}, which the boot stack
     * keeps for a kernel that pushes at its entry. The ACPI tables at 0xE0000 lie above it.
     */
    public static final long COMMAND_LINE_ROOM_END = LongMode.STACK_TOP - 0x1000;
    /** Linux's COMMAND_LINE_SIZE on x86, NUL included: what a PVH kernel copies of its command line. */
    public static final int PVH_COMMAND_LINE_SIZE = 2048;
    /** No RSDP address given: Linux then searches the BIOS area for one (MemoryMap.BIOS_AREA_START). */
    public static final long NO_RSDP = 0;

    private static final long PAGE = 4096;
    private static final long FOUR_GIB = 0x1_0000_0000L;

    private LinuxBoot() {}

    /** Where the command line's bytes and the initrd go, decided and checked before anything is written. */
    private record Placement(byte[] commandLine, long initrdAddress) {}

    /**
     * Checks that {@code kernel} is a kernel jvfio can boot and that it, its initrd and its command line fit
     * a machine of {@code ramSize} bytes: what {@link #load} checks before writing, for callers that want
     * a user's mistake named before they build the machine.
     */
    public static void check(LinuxKernel kernel, long ramSize) throws InvalidGuestImageException {
        byte[] image = kernel.imageBytes();
        if (isElf(image)) {
            place(PvhKernel.parse(image), kernel, ramSize);
        } else {
            place(BzImage.parse(image), kernel, ramSize);
        }
    }

    /**
     * Loads {@code kernel} into {@code ram} with the memory map {@code memoryMap} and the RSDP at
     * {@code rsdpAddress} ({@link #NO_RSDP}: none given), and returns the boot vCPU's entry. Checks that
     * everything fits before writing anything; a kernel, initrd or command line that does not is an
     * {@link InvalidGuestImageException} saying which and why.
     */
    public static KernelEntry load(LinuxKernel kernel, Mapping ram, List<MemoryMap.Entry> memoryMap, long rsdpAddress)
            throws InvalidGuestImageException {
        byte[] image = kernel.imageBytes();
        byte[] initrd = kernel.initrdBytes();
        if (isElf(image)) {
            PvhKernel pvh = PvhKernel.parse(image);
            Placement placement = place(pvh, kernel, ram.size());
            pvh.elf().loadInto(image, ram, MemoryMap.HIGH_RAM_START);
            writeGdtCommandLineAndInitrd(ram, placement, initrd);
            byte[] startInfo = HvmStartInfo.encode(
                    BOOT_DATA_ADDRESS,
                    COMMAND_LINE_ADDRESS,
                    placement.initrdAddress(),
                    length(initrd),
                    memoryMap,
                    rsdpAddress);
            ram.copyFrom(startInfo, 0, BOOT_DATA_ADDRESS, startInfo.length);
            return new KernelEntry(KernelEntry.Mode.PROTECTED_MODE_32, pvh.entry(), BOOT_DATA_ADDRESS);
        }
        BzImage bz = BzImage.parse(image);
        Placement placement = place(bz, kernel, ram.size());
        ram.copyFrom(image, bz.kernelOffset(), bz.loadAddress(), bz.kernelSize());
        writeGdtCommandLineAndInitrd(ram, placement, initrd);
        LongMode.writePageTables(ram);
        ram.copyFrom(
                BootParams.encode(
                        bz, COMMAND_LINE_ADDRESS, placement.initrdAddress(), length(initrd), memoryMap, rsdpAddress),
                0,
                BOOT_DATA_ADDRESS,
                BootParams.SIZE);
        return new KernelEntry(KernelEntry.Mode.LONG_MODE, bz.entry64(), BOOT_DATA_ADDRESS);
    }

    private static Placement place(PvhKernel pvh, LinuxKernel kernel, long ramSize) throws InvalidGuestImageException {
        long end = pvh.elf().end();
        requireRam(ramSize, end, "vmlinux");
        pvh.elf().requireWithin(MemoryMap.HIGH_RAM_START, ramSize);
        return new Placement(
                commandLine(kernel.commandLine(), PVH_COMMAND_LINE_SIZE - 1),
                initrdAddress(kernel.initrdBytes(), end, ramSize, FOUR_GIB, "the 32-bit address space"));
    }

    private static Placement place(BzImage bz, LinuxKernel kernel, long ramSize) throws InvalidGuestImageException {
        requireRam(ramSize, bz.end(), "bzImage");
        return new Placement(
                commandLine(kernel.commandLine(), bz.cmdlineSize()),
                initrdAddress(
                        kernel.initrdBytes(),
                        bz.end(),
                        ramSize,
                        bz.initrdAddrMax() + 1,
                        "what the kernel's initrd_addr_max (0x" + Long.toHexString(bz.initrdAddrMax())
                                + ") lets it reach"));
    }

    private static boolean isElf(byte[] image) {
        return image.length >= 4 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F';
    }

    private static long length(byte[] initrd) {
        return initrd == null ? 0 : initrd.length;
    }

    private static void requireRam(long ramSize, long kernelEnd, String what) throws InvalidGuestImageException {
        if (kernelEnd > ramSize) {
            throw new InvalidGuestImageException(what + ": the kernel needs RAM up to 0x" + Long.toHexString(kernelEnd)
                    + " (" + mebibytesToHold(kernelEnd) + " MiB), the machine has " + (ramSize >> 20) + " MiB");
        }
    }

    private static long mebibytesToHold(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    /**
     * The command line's bytes with a NUL, refused if longer than the kernel's {@code maxLength} or than its
     * room below the boot stack, or not printable ASCII.
     */
    private static byte[] commandLine(String text, long maxLength) throws InvalidGuestImageException {
        long room = COMMAND_LINE_ROOM_END - COMMAND_LINE_ADDRESS - 1;
        if (text.length() > room && room < maxLength) {
            throw new InvalidGuestImageException("kernel command line: " + text.length() + " characters, more than the "
                    + room + " that fit between 0x" + Long.toHexString(COMMAND_LINE_ADDRESS)
                    + " and the boot stack's page at 0x" + Long.toHexString(COMMAND_LINE_ROOM_END));
        }
        if (text.length() > maxLength) {
            throw new InvalidGuestImageException(
                    "kernel command line: " + text.length() + " characters, the kernel takes at most " + maxLength);
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                throw new InvalidGuestImageException("kernel command line: character " + i
                        + " is not printable ASCII (0x" + Integer.toHexString(c) + ")");
            }
        }
        byte[] bytes = new byte[text.length() + 1];
        System.arraycopy(text.getBytes(StandardCharsets.US_ASCII), 0, bytes, 0, text.length());
        return bytes;
    }

    /**
     * Where the initrd goes: page-aligned, above {@code kernelEnd}, ending at or below RAM's end and the
     * kernel's {@code kernelLimit} (the end of {@code kernelLimitText}). 0 for none. When it does not fit,
     * the error says which of the two ends was in the way: more RAM helps only against RAM's.
     */
    private static long initrdAddress(
            byte[] initrd, long kernelEnd, long ramSize, long kernelLimit, String kernelLimitText)
            throws InvalidGuestImageException {
        if (initrd == null) {
            return 0;
        }
        if (initrd.length == 0) {
            throw new InvalidGuestImageException("initrd: the file is empty");
        }
        String doesNotFit = "initrd: " + initrd.length + " bytes do not fit between the kernel's end (0x"
                + Long.toHexString(kernelEnd) + ") and 0x";
        if (((kernelLimit - initrd.length) & -PAGE) < kernelEnd) {
            throw new InvalidGuestImageException(
                    doesNotFit + Long.toHexString(kernelLimit) + ", the end of " + kernelLimitText);
        }
        long address = (Math.min(ramSize, kernelLimit) - initrd.length) & -PAGE;
        if (address < kernelEnd) {
            throw new InvalidGuestImageException(doesNotFit + Long.toHexString(ramSize) + ": give the machine "
                    + mebibytesToHold(kernelEnd + initrd.length + PAGE) + " MiB of RAM or more");
        }
        return address;
    }

    /** The GDT, the command line and the initrd, where {@code placement} says. */
    private static void writeGdtCommandLineAndInitrd(Mapping ram, Placement placement, byte[] initrd) {
        LongMode.writeGdt(ram, GDT);
        ram.copyFrom(placement.commandLine(), 0, COMMAND_LINE_ADDRESS, placement.commandLine().length);
        if (initrd != null) {
            ram.copyFrom(initrd, 0, placement.initrdAddress(), initrd.length);
        }
    }
}
