/*
 * Fuzz target: the pager's ELF reader (servers/pager/elf.c) over an image
 * in a buffer of exactly its size, with a segment array of exactly the
 * room it is told (both on the heap, so ASan sees any access past them).
 * An accepted image keeps elf.h's promises: at most max segments, each
 * non-empty with its file part inside the image and its memory inside the
 * user half, readable, never writable and executable, no two sharing a
 * page; the entry point in an executable segment.
 */
#include <string.h>

#include <mica/layout.h>
#include <mica/memory.h>

#include "elf.h"
#include "fuzz.h"

#define PAGE_DOWN(x) ((x) & ~(uint64_t)(MICA_PAGE_SIZE - 1))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned max = 1 + (unsigned)(size % 16); /* room for 1 to 16, varied by the input */
	uint8_t *image = malloc(size ? size : 1);
	struct elf_seg *segs = malloc(max * sizeof(*segs));
	uint64_t entry = 0;
	bool entry_ok = false;

	FUZZ_CHECK(image && segs);
	memcpy(image, data, size);
	int n = elf_read(image, size, segs, max, &entry);

	if (n < 0) {
		FUZZ_CHECK(n == MICA_ENOEXEC);
		goto out;
	}
	FUZZ_CHECK((unsigned)n <= max);

	for (int i = 0; i < n; i++) {
		const struct elf_seg *s = &segs[i];

		FUZZ_CHECK(s->memsz > 0 && s->filesz <= s->memsz);
		FUZZ_CHECK(s->offset <= size && s->filesz <= size - s->offset);
		FUZZ_CHECK(s->vaddr >= MICA_USER_BASE && s->vaddr < MICA_USER_TOP);
		FUZZ_CHECK(s->memsz <= MICA_USER_TOP - s->vaddr);
		FUZZ_CHECK(s->rights & MICA_MAP_READ);
		FUZZ_CHECK(!((s->rights & MICA_MAP_WRITE) && (s->rights & MICA_MAP_EXEC)));
		for (int j = 0; j < i; j++) { /* no page in common */
			const struct elf_seg *t = &segs[j];

			FUZZ_CHECK(PAGE_DOWN(t->vaddr + t->memsz - 1) < PAGE_DOWN(s->vaddr) ||
			           PAGE_DOWN(s->vaddr + s->memsz - 1) < PAGE_DOWN(t->vaddr));
		}
		if ((s->rights & MICA_MAP_EXEC) && entry >= s->vaddr && entry - s->vaddr < s->memsz)
			entry_ok = true;
	}
	FUZZ_CHECK(entry_ok);
out:
	free(image);
	free(segs);
	return 0;
}
