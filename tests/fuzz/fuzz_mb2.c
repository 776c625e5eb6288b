/*
 * Fuzz target: the kernel's multiboot2 parser (kernel/arch/x86_64/mb2.c)
 * over a boot-information block. The block gets a buffer of exactly its
 * total size (the header's, when the input holds that much; else the
 * header is made to say the input's size), so ASan sees any read past it.
 * Accepted blocks: every string the parser returns lies inside the block
 * and ends inside its own tag, and the module list is within bounds; the usable ranges
 * derived from the memory map are sorted, disjoint, whole frames, usable.
 */
#include <string.h>

#include <mica/error.h>
#include <mica/layout.h>

#include "fuzz.h"
#include "mb2.h"
#include "memmap.h"

/* The end of the tag of block that holds p (walked as the format says), or NULL if none does. */
static const uint8_t *tag_end(const uint8_t *block, uint32_t total, const void *p)
{
	uint32_t off = 8;

	while (off + 8 <= total) {
		uint32_t size;

		memcpy(&size, block + off + 4, sizeof(size));
		if (size < 8 || size > total - off)
			return NULL;
		if ((const uint8_t *)p >= block + off && (const uint8_t *)p < block + off + size)
			return block + off + size;
		off += (size + 7) & ~7u;
	}
	return NULL;
}

/* A string the parser returned: "" (its own), or NUL-terminated inside its own tag. */
static void check_string(const char *s, const uint8_t *block, uint32_t size)
{
	if (!fuzz_inside(s, 1, block, size)) {
		FUZZ_CHECK(s[0] == '\0'); /* a constant "" outside the block */
		return;
	}
	const uint8_t *end = tag_end(block, size, s);

	FUZZ_CHECK(end != NULL);
	FUZZ_CHECK(memchr(s, 0, (size_t)(end - (const uint8_t *)s)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct memmap map;
	struct boot_info bi;
	uint32_t total;

	if (size < 8 || size > MB2_MAX_INFO_SIZE)
		return 0;
	memcpy(&total, data, sizeof(total));
	if (total < 8 || total > size)
		total = (uint32_t)size;
	uint8_t *block = malloc(total);

	FUZZ_CHECK(block);
	memcpy(block, data, total);
	memcpy(block, &total, sizeof(total));
	const char *err = mb2_parse(block, &bi, &map);

	if (!err) {
		check_string(bi.cmdline, block, total);
		check_string(bi.loader, block, total);
		FUZZ_CHECK(bi.nmodules <= MB2_MAX_MODULES);
		for (size_t i = 0; i < bi.nmodules; i++) {
			FUZZ_CHECK(bi.module[i].start <= bi.module[i].end);
			check_string(bi.module[i].cmdline, block, total);
		}
		/* The usable frames derived from the fuzzed map, as the kernel goes on to. */
		if (memmap_compute(&map) == MICA_OK) {
			uint64_t frames = 0;

			FUZZ_CHECK(map.nusable <= MEMMAP_MAX_RANGES);
			for (size_t i = 0; i < map.nusable; i++) {
				const struct mem_range *r = &map.usable[i];

				FUZZ_CHECK(r->start < r->end);
				FUZZ_CHECK(r->start % MICA_PAGE_SIZE == 0 &&
				           r->end % MICA_PAGE_SIZE == 0);
				FUZZ_CHECK(i == 0 || map.usable[i - 1].end <= r->start);
				FUZZ_CHECK(memmap_is_usable(&map, r->start) &&
				           memmap_is_usable(&map, r->end - 1));
				frames += (r->end - r->start) / MICA_PAGE_SIZE;
			}
			FUZZ_CHECK(frames == map.usable_frames);
			(void)memmap_check(&map);
		}
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	free(block);
	return 0;
}
