/*
 * The ELF image checker: reads a static x86_64 ELF64 executable from an
 * untrusted buffer and, if every check passes, returns its entry point and
 * its loadable segments, sorted by address, disjoint page by page, inside
 * the user half and never both writable and executable.
 */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include "types.h"

#define ELF_MAX_SEGMENTS 16 /* loadable segments an image may have */

/* Segment rights, as the image asks for them. */
#define ELF_SEG_R (1u << 0) /* readable (x86_64 cannot refuse reads of a mapped page) */
#define ELF_SEG_W (1u << 1) /* writable; never together with ELF_SEG_X */
#define ELF_SEG_X (1u << 2) /* executable */

/*
 * One loadable segment: memsz bytes at vaddr, of which the first filesz
 * come from the file at offset and the rest are zero. Checked:
 * 0 < memsz, filesz <= memsz, [offset, offset + filesz) inside the file,
 * [vaddr, vaddr + memsz) inside [MICA_USER_BASE, MICA_USER_TOP), and
 * vaddr and offset equal modulo the page size.
 */
struct elf_segment {
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
	unsigned flags; /* ELF_SEG_* */
};

struct elf_image {
	uint64_t entry; /* inside an executable segment */
	struct elf_segment seg[ELF_MAX_SEGMENTS];
	unsigned nseg; /* 1 to ELF_MAX_SEGMENTS, sorted by vaddr */
};

int elf_parse(const void *file, uint64_t size, struct elf_image *out, const char **reason);

#endif /* KERNEL_ELF_H */
