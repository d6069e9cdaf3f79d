package io.jvfio.machine.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import io.jvfio.sys.Mapping;

/**
 * A validated ELF64 little-endian x86-64 executable: its entry point and PT_LOAD segments. Parsing checks
 * every header field it relies on and every offset against the file; {@link #loadInto} checks every
 * segment against guest RAM and the machine's reserved low memory before writing anything.
 */
public record ElfImage(long entry, List<LoadSegment> segments) {
    private static final int EI_NIDENT = 16;
    private static final int ELFCLASS64 = 2;
    private static final int ELFDATA2LSB = 1;
    private static final int EV_CURRENT = 1;
    private static final int ET_EXEC = 2;
    private static final int EM_X86_64 = 62;
    private static final int EHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    private static final int PT_LOAD = 1;
    private static final int MAX_PHDRS = 64;

    /** One PT_LOAD segment: {@code fileSize} bytes from {@code fileOffset} to {@code physAddr}, then zeros up to {@code memSize}. */
    public record LoadSegment(long physAddr, long fileOffset, long fileSize, long memSize, int flags) {
    }

    public ElfImage {
        segments = List.copyOf(segments);
    }

    /** Parses and validates {@code image}; the bytes are not kept (segments refer to offsets in it). */
    public static ElfImage parse(byte[] image) throws InvalidGuestImageException {
        if (image.length < EHDR_SIZE) {
            throw new InvalidGuestImageException("ELF: " + image.length + " bytes is shorter than the ELF header (64)");
        }
        if (image[0] != 0x7f || image[1] != 'E' || image[2] != 'L' || image[3] != 'F') {
            throw new InvalidGuestImageException("ELF: bad magic (not an ELF file)");
        }
        if (image[4] != ELFCLASS64) {
            throw new InvalidGuestImageException("ELF: class " + image[4] + " is not ELFCLASS64");
        }
        if (image[5] != ELFDATA2LSB) {
            throw new InvalidGuestImageException("ELF: data encoding " + image[5] + " is not little-endian");
        }
        if (image[6] != EV_CURRENT) {
            throw new InvalidGuestImageException("ELF: version " + image[6] + " is not EV_CURRENT");
        }
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int type = Short.toUnsignedInt(b.getShort(EI_NIDENT));
        int machine = Short.toUnsignedInt(b.getShort(EI_NIDENT + 2));
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = Short.toUnsignedInt(b.getShort(54));
        int phnum = Short.toUnsignedInt(b.getShort(56));
        if (type != ET_EXEC) {
            throw new InvalidGuestImageException("ELF: type " + type + " is not ET_EXEC (link with -static -no-pie)");
        }
        if (machine != EM_X86_64) {
            throw new InvalidGuestImageException("ELF: machine " + machine + " is not EM_X86_64 (62)");
        }
        if (phentsize != PHDR_SIZE) {
            throw new InvalidGuestImageException("ELF: program header size " + phentsize + " is not 56");
        }
        if (phnum == 0 || phnum > MAX_PHDRS) {
            throw new InvalidGuestImageException("ELF: " + phnum + " program headers (need 1.." + MAX_PHDRS + ")");
        }
        if (phoff < EHDR_SIZE || phoff > image.length || (long) phnum * PHDR_SIZE > image.length - phoff) {
            throw new InvalidGuestImageException("ELF: program headers at " + phoff + " (" + phnum
                    + " x 56 bytes) lie outside the " + image.length + "-byte file");
        }
        List<LoadSegment> segments = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = (int) (phoff + (long) i * PHDR_SIZE);
            if (b.getInt(at) != PT_LOAD) {
                continue;
            }
            int flags = b.getInt(at + 4);
            long offset = b.getLong(at + 8);
            long paddr = b.getLong(at + 24);
            long filesz = b.getLong(at + 32);
            long memsz = b.getLong(at + 40);
            if (offset < 0 || filesz < 0 || offset > image.length || filesz > image.length - offset) {
                throw new InvalidGuestImageException("ELF: segment " + i + " (" + filesz + " bytes at file offset "
                        + offset + ") ends beyond the " + image.length + "-byte file");
            }
            if (Long.compareUnsigned(filesz, memsz) > 0) {
                throw new InvalidGuestImageException("ELF: segment " + i + " has more file bytes (" + filesz
                        + ") than memory bytes (" + memsz + ")");
            }
            if (paddr < 0 || memsz < 0 || paddr + memsz < paddr) {
                throw new InvalidGuestImageException("ELF: segment " + i + " at 0x" + Long.toHexString(paddr)
                        + " wraps the address space");
            }
            segments.add(new LoadSegment(paddr, offset, filesz, memsz, flags));
        }
        if (segments.isEmpty()) {
            throw new InvalidGuestImageException("ELF: no PT_LOAD segment");
        }
        boolean entryLoaded = segments.stream().anyMatch(s -> entry >= s.physAddr() && entry < s.physAddr() + s.memSize());
        if (!entryLoaded) {
            throw new InvalidGuestImageException("ELF: entry 0x" + Long.toHexString(entry) + " lies in no PT_LOAD segment");
        }
        return new ElfImage(entry, segments);
    }

    /**
     * Copies each segment's file bytes from {@code image} into {@code ram} at its physical address and
     * zeroes the rest of its memory size. Segments must lie in [{@code lowest}, RAM size).
     */
    public void loadInto(byte[] image, Mapping ram, long lowest) throws InvalidGuestImageException {
        for (int i = 0; i < segments.size(); i++) {
            LoadSegment s = segments.get(i);
            if (s.physAddr() < lowest) {
                throw new InvalidGuestImageException("ELF: segment " + i + " at 0x" + Long.toHexString(s.physAddr())
                        + " lies below 0x" + Long.toHexString(lowest) + ", which the machine reserves");
            }
            if (s.physAddr() + s.memSize() > ram.size()) {
                throw new InvalidGuestImageException("ELF: segment " + i + " at 0x" + Long.toHexString(s.physAddr())
                        + " (0x" + Long.toHexString(s.memSize()) + " bytes) ends beyond RAM (0x"
                        + Long.toHexString(ram.size()) + " bytes)");
            }
            if (s.fileOffset() + s.fileSize() > image.length) {
                throw new InvalidGuestImageException("ELF: segment " + i + " ends beyond the image given to load");
            }
        }
        for (LoadSegment s : segments) {
            ram.copyFrom(image, (int) s.fileOffset(), s.physAddr(), (int) s.fileSize());
            if (s.memSize() > s.fileSize()) {
                ram.fill(s.physAddr() + s.fileSize(), s.memSize() - s.fileSize(), (byte) 0);
            }
        }
    }
}
