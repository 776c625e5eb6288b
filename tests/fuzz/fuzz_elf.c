/*
 * Fuzz target: the kernel's ELF checker (kernel/elf.c) over an image in a
 * buffer of exactly its size (ASan sees any read past it). An accepted
 * image keeps every promise of elf.h: 1 to ELF_MAX_SEGMENTS segments,
 * sorted and page-disjoint, each non-empty, its file part inside the
 * image, its memory inside the user half, never writable and executable,
 * vaddr and offset equal modulo the page size; the entry in an executable
 * segment. A refused one says why.
 */
#include <string.h>

#include <mica/error.h>
#include <mica/layout.h>

#include "elf.h"
#include "fuzz.h"

#define PAGE_DOWN(x) ((x) & ~(uint64_t)(MICA_PAGE_SIZE - 1))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_image img;
	const char *why = NULL;
	uint8_t *file = malloc(size ? size : 1);

	FUZZ_CHECK(file);
	memcpy(file, data, size);
	int rc = elf_parse(file, size, &img, &why);

	if (rc != MICA_OK) {
		FUZZ_CHECK(rc == MICA_ENOEXEC && why && why[0]);
		free(file);
		return 0;
	}
	bool entry_ok = false;

	FUZZ_CHECK(img.nseg >= 1 && img.nseg <= ELF_MAX_SEGMENTS);
	for (unsigned i = 0; i < img.nseg; i++) {
		const struct elf_segment *s = &img.seg[i];

		FUZZ_CHECK(s->memsz > 0 && s->filesz <= s->memsz);
		FUZZ_CHECK(s->offset <= size && s->filesz <= size - s->offset);
		FUZZ_CHECK(s->vaddr >= MICA_USER_BASE && s->vaddr < MICA_USER_TOP);
		FUZZ_CHECK(s->memsz <= MICA_USER_TOP - s->vaddr);
		FUZZ_CHECK(!((s->flags & ELF_SEG_W) && (s->flags & ELF_SEG_X)));
		FUZZ_CHECK(s->vaddr % MICA_PAGE_SIZE == s->offset % MICA_PAGE_SIZE);
		if (i > 0) /* sorted, and no page shared with the one before */
			FUZZ_CHECK(PAGE_DOWN(img.seg[i - 1].vaddr + img.seg[i - 1].memsz - 1) <
			           PAGE_DOWN(s->vaddr));
		if ((s->flags & ELF_SEG_X) && img.entry >= s->vaddr &&
		    img.entry - s->vaddr < s->memsz)
			entry_ok = true;
	}
	FUZZ_CHECK(entry_ok);
	free(file);
	return 0;
}
