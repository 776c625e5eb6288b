/*
 * Fuzz target: the pager's ELF reader (servers/pager/elf.c) over an image
 * in a buffer of exactly its size, with a segment array of exactly the
 * room it is told (both on the heap, so ASan sees any access past them).
 * An accepted image keeps elf.h's promises: at most max segments, each
 * non-empty with its file part inside the image and its memory inside the
 * user half, readable, never writable and executable, no two sharing a
 * page; the entry point in an executable segment. elf_read_head over the
 * image's first page only, as pager.spawn_object reads a file, accepts no
 * more than that, and only segments whose offset and address agree
 * within a page.
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
		uint64_t head = size < MICA_PAGE_SIZE ? size : MICA_PAGE_SIZE;

		FUZZ_CHECK(n == MICA_ENOEXEC);
		/* What elf_read refuses, a read of its first page refuses too. */
		FUZZ_CHECK(elf_read_head(image, head, size, segs, max, &entry, ELF_MAPPED) ==
		           MICA_ENOEXEC);
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
	/*
	 * The same image read as pager.spawn_object reads a file: only its
	 * first page at hand (its own buffer, so ASan sees a read past it),
	 * segments mapped from the file. Whatever it accepts, elf_read accepted
	 * with the same segments, each offset agreeing with its address within
	 * a page.
	 */
	uint64_t head = size < MICA_PAGE_SIZE ? size : MICA_PAGE_SIZE, entry2 = 0;
	uint8_t *first = malloc(head ? head : 1);
	struct elf_seg *segs2 = malloc(max * sizeof(*segs2));

	FUZZ_CHECK(first && segs2);
	memcpy(first, data, head);
	int m = elf_read_head(first, head, size, segs2, max, &entry2, ELF_MAPPED);

	FUZZ_CHECK(m == MICA_ENOEXEC || (m == n && entry2 == entry));
	for (int i = 0; i < m; i++) {
		FUZZ_CHECK(memcmp(&segs2[i], &segs[i], sizeof(segs[i])) == 0);
		FUZZ_CHECK(((segs2[i].vaddr ^ segs2[i].offset) & (MICA_PAGE_SIZE - 1)) == 0);
	}
	free(first);
	free(segs2);
out:
	free(image);
	free(segs);
	return 0;
}
