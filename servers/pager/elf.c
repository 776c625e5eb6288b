/*
 * The pager's ELF reader (elf.h): program headers to segments, with every
 * check a loader needs before trusting a module's image.
 */
#include "elf.h"

#include <mica/layout.h>
#include <mica/memory.h>

#include <stdbool.h>

#define PAGE         MICA_PAGE_SIZE
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))

/*
 * Copy a header out of the image (which may be unaligned for the structs).
 * n is a struct's size, so the compiler makes this a few 8-byte moves (x86
 * allows unaligned ones), not a byte loop.
 */
#define copy(dst, src, n) __builtin_memcpy((dst), (src), (n))

/* The pages of a and b overlap. */
static bool pages_meet(const struct elf_seg *a, const struct elf_seg *b)
{
	uint64_t a_lo = PAGE_DOWN(a->vaddr), a_hi = PAGE_DOWN(a->vaddr + a->memsz - 1);
	uint64_t b_lo = PAGE_DOWN(b->vaddr), b_hi = PAGE_DOWN(b->vaddr + b->memsz - 1);

	return a_lo <= b_hi && b_lo <= a_hi;
}

int elf_read(const void *image, uint64_t size, struct elf_seg *segs, unsigned max, uint64_t *entry)
{
	return elf_read_head(image, size, size, segs, max, entry, 0);
}

int elf_read_head(const void *image, uint64_t head, uint64_t size, struct elf_seg *segs,
                  unsigned max, uint64_t *entry, unsigned flags)
{
	const uint8_t *img = image;
	struct mica_elf64_ehdr eh;
	unsigned n = 0;
	bool entry_ok = false;

	/* A whole file header, within the bytes we have (which lie within the file). */
	if (head > size)
		head = size;
	if (!image || head < sizeof(eh))
		return MICA_ENOEXEC;
	copy(&eh, img, sizeof(eh));
	/* ELF64, little-endian, current version, an x86_64 static executable. */
	if (eh.e_ident[MICA_EI_MAG0] != MICA_ELFMAG0 || eh.e_ident[MICA_EI_MAG1] != MICA_ELFMAG1 ||
	    eh.e_ident[MICA_EI_MAG2] != MICA_ELFMAG2 || eh.e_ident[MICA_EI_MAG3] != MICA_ELFMAG3 ||
	    eh.e_ident[MICA_EI_CLASS] != MICA_ELFCLASS64 ||
	    eh.e_ident[MICA_EI_DATA] != MICA_ELFDATA2LSB ||
	    eh.e_ident[MICA_EI_VERSION] != MICA_EV_CURRENT || eh.e_type != MICA_ET_EXEC ||
	    eh.e_machine != MICA_EM_X86_64 || eh.e_version != MICA_EV_CURRENT)
		return MICA_ENOEXEC;
	/* Standard program headers, all inside the file (and the bytes we have). */
	if (eh.e_phentsize != sizeof(struct mica_elf64_phdr) || eh.e_phnum == MICA_PN_XNUM ||
	    eh.e_phoff > head ||
	    (uint64_t)eh.e_phnum * sizeof(struct mica_elf64_phdr) > head - eh.e_phoff)
		return MICA_ENOEXEC;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct mica_elf64_phdr p;

		copy(&p, img + eh.e_phoff + i * sizeof(p), sizeof(p));
		if (p.p_type != MICA_PT_LOAD || !p.p_memsz)
			continue;
		/* Room for it. */
		if (n == max)
			return MICA_ENOEXEC;
		/* Its file part inside the file, and no larger than the segment. */
		if (p.p_filesz > p.p_memsz || p.p_offset > size || p.p_filesz > size - p.p_offset)
			return MICA_ENOEXEC;
		/* In the user half, without wrapping. */
		if (p.p_vaddr < MICA_USER_BASE || p.p_vaddr >= MICA_USER_TOP ||
		    p.p_memsz > MICA_USER_TOP - p.p_vaddr)
			return MICA_ENOEXEC;
		/* Never writable and executable. */
		if ((p.p_flags & MICA_PF_W) && (p.p_flags & MICA_PF_X))
			return MICA_ENOEXEC;
		/* Mapped from the file: its pages are the file's, so the two agree within a page.
		 */
		if ((flags & ELF_MAPPED) && (p.p_vaddr ^ p.p_offset) & (PAGE - 1))
			return MICA_ENOEXEC;
		struct elf_seg *s = &segs[n];

		s->vaddr = p.p_vaddr;
		s->memsz = p.p_memsz;
		s->offset = p.p_offset;
		s->filesz = p.p_filesz;
		s->rights = MICA_MAP_READ | (p.p_flags & MICA_PF_W ? MICA_MAP_WRITE : 0) |
		            (p.p_flags & MICA_PF_X ? MICA_MAP_EXEC : 0);
		/* No page shared with an earlier segment (their rights could differ). */
		for (unsigned j = 0; j < n; j++)
			if (pages_meet(&segs[j], s))
				return MICA_ENOEXEC;
		if ((s->rights & MICA_MAP_EXEC) && eh.e_entry >= s->vaddr &&
		    eh.e_entry - s->vaddr < s->memsz)
			entry_ok = true;
		n++;
	}
	/* The entry point lies in an executable segment. */
	if (!entry_ok)
		return MICA_ENOEXEC;
	*entry = eh.e_entry;
	return (int)n;
}
