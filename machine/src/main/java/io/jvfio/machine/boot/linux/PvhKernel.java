package io.jvfio.machine.boot.linux;

import io.jvfio.machine.boot.ElfImage;
import io.jvfio.machine.boot.InvalidGuestImageException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An ELF vmlinux with a PVH entry: the Xen note XEN_ELFNOTE_PHYS32_ENTRY (type 18, owner "Xen") gives the
 * physical address of its 32-bit entry (Linux's pvh_start_xen, built with CONFIG_PVH).
 */
public record PvhKernel(ElfImage elf, long entry) {
    public static final String XEN_NOTE_OWNER = "Xen";
    public static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;

    /** Parses {@code image} and finds its PVH entry. */
    public static PvhKernel parse(byte[] image) throws InvalidGuestImageException {
        ElfImage elf = ElfImage.parse(image);
        ElfImage.Note note = elf.notes().stream()
                .filter(n -> n.name().equals(XEN_NOTE_OWNER) && n.type() == XEN_ELFNOTE_PHYS32_ENTRY)
                .findFirst()
                .orElseThrow(() -> new InvalidGuestImageException("vmlinux: no PVH entry note (Xen note "
                        + XEN_ELFNOTE_PHYS32_ENTRY + ", XEN_ELFNOTE_PHYS32_ENTRY): a kernel built without CONFIG_PVH;"
                        + " boot its bzImage instead"));
        byte[] descriptor = note.descriptor();
        // Linux writes the address with _ASM_PTR: 8 bytes on x86-64; other PVH kernels write 4.
        ByteBuffer b = ByteBuffer.wrap(descriptor).order(ByteOrder.LITTLE_ENDIAN);
        long entry = switch (descriptor.length) {
            case 4 -> Integer.toUnsignedLong(b.getInt(0));
            case 8 -> b.getLong(0);
            default ->
                throw new InvalidGuestImageException("vmlinux: the PVH entry note holds " + descriptor.length
                        + " bytes, not a 4- or 8-byte address");
        };
        if (entry < 0 || entry >= 0x1_0000_0000L || !elf.loads(entry)) {
            throw new InvalidGuestImageException(
                    "vmlinux: the PVH entry 0x" + Long.toHexString(entry) + " lies in no loaded segment below 4 GiB");
        }
        return new PvhKernel(elf, entry);
    }
}
