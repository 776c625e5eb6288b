/*
 * ELF image checker: decides whether an untrusted buffer is a static x86_64
 * executable Mica can load, and describes its loadable segments. Used by the
 * kernel for the first task (a GRUB module) and, later, by the pager.
 *
 * Nothing in the buffer is trusted: every header is copied out (the buffer
 * need not be aligned) only once it is known to lie inside the buffer, and
 * every sum of two file values is checked against overflow before use.
 */
#include <mica/elf.h>
#include <mica/error.h>
#include <mica/layout.h>
#include "elf.h"
#include "lib/string.h"

/* Record why the image is refused (if the caller asked) and refuse it. */
static int refuse(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return MICA_ENOEXEC;
}

/* Check the file header; on success *eh holds a copy of it. */
static int check_header(const uint8_t *file, uint64_t size, struct mica_elf64_ehdr *eh,
                        const char **reason)
{
	/* The header: inside the file before any field is read. */
	if (size < sizeof(*eh))
		return refuse(reason, "file is too small for an ELF header");
	memcpy(eh, file, sizeof(*eh));

	/* Identification: magic, 64-bit, little-endian, version 1. */
	if (eh->e_ident[MICA_EI_MAG0] != MICA_ELFMAG0 ||
	    eh->e_ident[MICA_EI_MAG1] != MICA_ELFMAG1 ||
	    eh->e_ident[MICA_EI_MAG2] != MICA_ELFMAG2 || eh->e_ident[MICA_EI_MAG3] != MICA_ELFMAG3)
		return refuse(reason, "not an ELF file (bad magic)");
	if (eh->e_ident[MICA_EI_CLASS] != MICA_ELFCLASS64)
		return refuse(reason, "not a 64-bit ELF file");
	if (eh->e_ident[MICA_EI_DATA] != MICA_ELFDATA2LSB)
		return refuse(reason, "not a little-endian ELF file");
	if (eh->e_ident[MICA_EI_VERSION] != MICA_EV_CURRENT || eh->e_version != MICA_EV_CURRENT)
		return refuse(reason, "unknown ELF version");

	/* A static executable for this machine. */
	if (eh->e_type != MICA_ET_EXEC)
		return refuse(reason, "not a static executable (ET_EXEC)");
	if (eh->e_machine != MICA_EM_X86_64)
		return refuse(reason, "not x86_64");

	/* The program header table: entries of the size Mica knows, inside the file. */
	if (eh->e_phentsize != sizeof(struct mica_elf64_phdr))
		return refuse(reason, "program header size is not 56 bytes");
	if (eh->e_phnum == MICA_PN_XNUM)
		return refuse(reason, "too many program headers (PN_XNUM)");
	uint64_t table = (uint64_t)eh->e_phnum * sizeof(struct mica_elf64_phdr); /* < 2^22 */
	if (eh->e_phoff > size || table > size - eh->e_phoff)
		return refuse(reason, "program header table is outside the file");
	return MICA_OK;
}

/*
 * Check one PT_LOAD header and add it to img, keeping img sorted by
 * address. A segment with no bytes in memory is ignored.
 */
static int add_segment(const struct mica_elf64_phdr *ph, uint64_t size, struct elf_image *img,
                       const char **reason)
{
	/* Sizes: the file part is part of the memory image. */
	if (ph->p_filesz > ph->p_memsz)
		return refuse(reason, "segment file size exceeds its memory size");
	if (ph->p_memsz == 0)
		return MICA_OK;
	if (img->nseg == ELF_MAX_SEGMENTS)
		return refuse(reason, "too many loadable segments");

	/* File range: inside the file. */
	if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return refuse(reason, "segment is outside the file");

	/* Address range: inside the user half (whose top is page aligned). */
	if (ph->p_vaddr < MICA_USER_BASE || ph->p_vaddr >= MICA_USER_TOP ||
	    ph->p_memsz > MICA_USER_TOP - ph->p_vaddr)
		return refuse(reason, "segment is outside the user address range");

	/* Pages: each page of the segment comes from one page of the file. */
	if (ph->p_vaddr % MICA_PAGE_SIZE != ph->p_offset % MICA_PAGE_SIZE)
		return refuse(reason,
		              "segment address and file offset differ modulo the page size");

	/* Rights: W^X. */
	if ((ph->p_flags & MICA_PF_W) && (ph->p_flags & MICA_PF_X))
		return refuse(reason, "segment is writable and executable");

	struct elf_segment s = {
	    .vaddr = ph->p_vaddr,
	    .memsz = ph->p_memsz,
	    .offset = ph->p_offset,
	    .filesz = ph->p_filesz,
	    .flags = ((ph->p_flags & MICA_PF_R) ? ELF_SEG_R : 0) |
	             ((ph->p_flags & MICA_PF_W) ? ELF_SEG_W : 0) |
	             ((ph->p_flags & MICA_PF_X) ? ELF_SEG_X : 0),
	};
	unsigned i;
	for (i = img->nseg; i > 0 && img->seg[i - 1].vaddr > s.vaddr; i--)
		img->seg[i] = img->seg[i - 1];
	img->seg[i] = s;
	img->nseg++;
	return MICA_OK;
}

/* Check the whole image into img; on failure img is partly filled. */
static int check_image(const uint8_t *file, uint64_t size, struct elf_image *img,
                       const char **reason)
{
	struct mica_elf64_ehdr eh;
	int err;

	img->nseg = 0;
	err = check_header(file, size, &eh, reason);
	if (err != MICA_OK)
		return err;

	/* Each program header: only loadable segments matter. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct mica_elf64_phdr ph;

		memcpy(&ph, file + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != MICA_PT_LOAD)
			continue;
		err = add_segment(&ph, size, img, reason);
		if (err != MICA_OK)
			return err;
	}
	if (img->nseg == 0)
		return refuse(reason, "no loadable segment");

	/* Segments: no page shared by two (sorted, so neighbours suffice). */
	for (unsigned i = 1; i < img->nseg; i++) {
		const struct elf_segment *a = &img->seg[i - 1], *b = &img->seg[i];

		if (ALIGN_DOWN(b->vaddr, MICA_PAGE_SIZE) <
		    ALIGN_UP(a->vaddr + a->memsz, MICA_PAGE_SIZE))
			return refuse(reason, "segments overlap");
	}

	/* Entry point: inside an executable segment. */
	img->entry = eh.e_entry;
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];

		if ((s->flags & ELF_SEG_X) && eh.e_entry >= s->vaddr &&
		    eh.e_entry - s->vaddr < s->memsz)
			return MICA_OK;
	}
	return refuse(reason, "entry point is not in an executable segment");
}

/*
 * Check that the `size` bytes at `file` are a static x86_64 ELF64
 * executable Mica can load, and describe it in *out: its entry point and
 * its non-empty PT_LOAD segments, sorted by address (the checks are listed
 * in elf.h). Reads nothing outside the buffer, which need not be aligned.
 * Returns MICA_OK (and sets *reason to NULL), or MICA_ENOEXEC with *out
 * emptied and *reason, if reason is not NULL, set to a short static string
 * naming the check that failed. Any caller may use it; it keeps no state.
 */
int elf_parse(const void *file, uint64_t size, struct elf_image *out, const char **reason)
{
	if (reason)
		*reason = NULL;
	int err = check_image(file, size, out, reason);
	if (err != MICA_OK)
		memset(out, 0, sizeof(*out));
	return err;
}
