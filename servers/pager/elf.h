/*
 * The pager's ELF reader: checks a program image (a boot module) and lists
 * its loadable segments. A standalone module: freestanding C11, no libc,
 * only the ABI headers, so its host test runs it as it is.
 */
#ifndef PAGER_ELF_H
#define PAGER_ELF_H

#include <stdint.h>

#include <mica/elf.h>
#include <mica/error.h>

/* A PT_LOAD segment: memsz bytes at vaddr, the first filesz from the file at offset. */
struct elf_seg {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
	uint32_t rights; /* MICA_MAP_READ, plus WRITE or EXEC from its flags */
};

/*
 * Check the image (size bytes at image, any alignment) and list its
 * non-empty PT_LOAD segments in segs (room for max), in file order; the
 * entry point goes to *entry. Returns the number of segments, or
 * MICA_ENOEXEC unless all of these hold: an ELF64 little-endian x86_64
 * static executable (ET_EXEC) with standard program headers inside the
 * file; at most max segments; each with its file part inside the file and
 * no larger than its memory size, inside the user half without wrapping,
 * not writable and executable; no two sharing a page; the entry point in
 * an executable segment.
 */
int elf_read(const void *image, uint64_t size, struct elf_seg *segs, unsigned max, uint64_t *entry);

/* elf_read_head's flags. */
#define ELF_MAPPED                                                                                 \
	1u /* each segment's offset and address agree within a page (mapped from the file) */

/*
 * elf_read for a file of size bytes of which only the first head bytes
 * are at image (a program read through a memory object: its first page):
 * the same rules, and the program headers must lie within those head
 * bytes; with ELF_MAPPED also each segment's file offset and address
 * equal modulo the page size. elf_read(image, size, ...) is
 * elf_read_head(image, size, size, ..., 0).
 */
int elf_read_head(const void *image, uint64_t head, uint64_t size, struct elf_seg *segs,
                  unsigned max, uint64_t *entry, unsigned flags);

#endif /* PAGER_ELF_H */
