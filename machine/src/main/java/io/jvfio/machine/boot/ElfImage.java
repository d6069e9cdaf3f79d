package io.jvfio.machine.boot;

import io.jvfio.sys.Mapping;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated ELF64 little-endian x86-64 executable: its entry point, PT_LOAD segments (no two of which
 * overlap in guest-physical memory) and the notes of its PT_NOTE segments. Parsing checks every header
 * field it relies on and every offset against the file;
 * {@link #loadInto} checks every segment against guest RAM and the machine's reserved low memory before
 * writing anything.
 */
public record ElfImage(long entry, List<LoadSegment> segments, List<Note> notes) {
    private static final int EI_NIDENT = 16;
    private static final int ELFCLASS64 = 2;
    private static final int ELFDATA2LSB = 1;
    private static final int EV_CURRENT = 1;
    private static final int ET_EXEC = 2;
    private static final int EM_X86_64 = 62;
    private static final int EHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int NOTE_HEADER_SIZE = 12;
    private static final int MAX_PHDRS = 64;

    /** One PT_LOAD segment: {@code fileSize} bytes from {@code fileOffset} to {@code physAddr}, then zeros up to {@code memSize}. */
    public record LoadSegment(long physAddr, long fileOffset, long fileSize, long memSize, int flags) {}

    /** One ELF note: its owner's name (without the NUL), type and descriptor bytes. */
    public record Note(String name, int type, byte[] descriptor) {
        public Note {
            descriptor = descriptor.clone();
        }

        @Override
        public byte[] descriptor() {
            return descriptor.clone();
        }
    }

    public ElfImage {
        segments = List.copyOf(segments);
        notes = List.copyOf(notes);
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
        List<Integer> headerIndexes = new ArrayList<>();
        List<Note> notes = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = (int) (phoff + (long) i * PHDR_SIZE);
            if (b.getInt(at) == PT_NOTE) {
                notes.addAll(notes(b, i, b.getLong(at + 8), b.getLong(at + 32)));
                continue;
            }
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
                throw new InvalidGuestImageException(
                        "ELF: segment " + i + " at 0x" + Long.toHexString(paddr) + " wraps the address space");
            }
            LoadSegment segment = new LoadSegment(paddr, offset, filesz, memsz, flags);
            // Loading one segment over another would leave whichever came last, not what the image meant.
            for (int j = 0; j < segments.size(); j++) {
                if (overlap(segments.get(j), segment)) {
                    throw new InvalidGuestImageException("ELF: segments " + headerIndexes.get(j) + " ("
                            + range(segments.get(j)) + ") and " + i + " (" + range(segment) + ") overlap");
                }
            }
            segments.add(segment);
            headerIndexes.add(i);
        }
        if (segments.isEmpty()) {
            throw new InvalidGuestImageException("ELF: no PT_LOAD segment");
        }
        ElfImage elf = new ElfImage(entry, segments, notes);
        if (!elf.loads(entry)) {
            throw new InvalidGuestImageException(
                    "ELF: entry 0x" + Long.toHexString(entry) + " lies in no PT_LOAD segment");
        }
        return elf;
    }

    private static boolean overlap(LoadSegment a, LoadSegment b) {
        return a.memSize() > 0
                && b.memSize() > 0
                && a.physAddr() < b.physAddr() + b.memSize()
                && b.physAddr() < a.physAddr() + a.memSize();
    }

    /** A segment's guest-physical bytes, first to last. */
    private static String range(LoadSegment s) {
        return "0x" + Long.toHexString(s.physAddr()) + "-0x" + Long.toHexString(s.physAddr() + s.memSize() - 1);
    }

    /** Whether the guest-physical {@code address} lies in one of the segments. */
    public boolean loads(long address) {
        return segments.stream().anyMatch(s -> address >= s.physAddr() && address - s.physAddr() < s.memSize());
    }

    /** The end of the highest segment in memory: where the loaded image ends. */
    public long end() {
        return segments.stream()
                .mapToLong(s -> s.physAddr() + s.memSize())
                .max()
                .orElseThrow();
    }

    /** The notes of the PT_NOTE segment {@code index}: each a 12-byte header, then name and descriptor, each padded to 4. */
    private static List<Note> notes(ByteBuffer b, int index, long offset, long size) throws InvalidGuestImageException {
        int length = b.capacity();
        if (offset < 0 || size < 0 || offset > length || size > length - offset) {
            throw new InvalidGuestImageException("ELF: note segment " + index + " (" + size + " bytes at file offset "
                    + offset + ") ends beyond the " + length + "-byte file");
        }
        List<Note> notes = new ArrayList<>();
        long at = offset;
        long end = offset + size;
        while (end - at >= NOTE_HEADER_SIZE) {
            long nameSize = Integer.toUnsignedLong(b.getInt((int) at));
            long descriptorSize = Integer.toUnsignedLong(b.getInt((int) at + 4));
            int type = b.getInt((int) at + 8);
            long name = at + NOTE_HEADER_SIZE;
            long descriptor = name + align4(nameSize);
            long next = descriptor + align4(descriptorSize);
            if (next > end) {
                throw new InvalidGuestImageException("ELF: a note at file offset " + at + " (name " + nameSize
                        + " bytes, descriptor " + descriptorSize + " bytes) ends beyond its segment " + index);
            }
            byte[] nameBytes = new byte[(int) nameSize];
            b.get((int) name, nameBytes);
            byte[] descriptorBytes = new byte[(int) descriptorSize];
            b.get((int) descriptor, descriptorBytes);
            int nameLength = nameBytes.length > 0 && nameBytes[nameBytes.length - 1] == 0
                    ? nameBytes.length - 1
                    : nameBytes.length;
            notes.add(new Note(new String(nameBytes, 0, nameLength, StandardCharsets.US_ASCII), type, descriptorBytes));
            at = next;
        }
        return notes;
    }

    private static long align4(long value) {
        return (value + 3) & ~3L;
    }

    /**
     * Checks that every segment lies in [{@code lowest}, {@code ramSize}): what {@link #loadInto} checks of
     * guest RAM, for a caller that wants the image refused before it builds the machine.
     */
    public void requireWithin(long lowest, long ramSize) throws InvalidGuestImageException {
        for (int i = 0; i < segments.size(); i++) {
            LoadSegment s = segments.get(i);
            if (s.physAddr() < lowest) {
                throw new InvalidGuestImageException("ELF: segment " + i + " at 0x" + Long.toHexString(s.physAddr())
                        + " lies below 0x" + Long.toHexString(lowest) + ", which the machine reserves");
            }
            if (s.physAddr() + s.memSize() > ramSize) {
                throw new InvalidGuestImageException("ELF: segment " + i + " at 0x" + Long.toHexString(s.physAddr())
                        + " (0x" + Long.toHexString(s.memSize()) + " bytes) ends beyond RAM (0x"
                        + Long.toHexString(ramSize) + " bytes)");
            }
        }
    }

    /**
     * Copies each segment's file bytes from {@code image} into {@code ram} at its physical address and
     * zeroes the rest of its memory size. Segments must lie in [{@code lowest}, RAM size).
     */
    public void loadInto(byte[] image, Mapping ram, long lowest) throws InvalidGuestImageException {
        requireWithin(lowest, ram.size());
        for (int i = 0; i < segments.size(); i++) {
            LoadSegment s = segments.get(i);
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
