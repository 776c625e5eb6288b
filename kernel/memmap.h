/*
 * The physical memory map as the boot loader reports it (E820 types), and
 * the set of usable frames derived from it: page-aligned, sorted, disjoint
 * ranges that lie inside available memory and touch no other kind of range.
 */
#ifndef KERNEL_MEMMAP_H
#define KERNEL_MEMMAP_H

#include "types.h"

/* E820 / multiboot2 memory types. */
#define MEMMAP_AVAILABLE        1
#define MEMMAP_RESERVED         2
#define MEMMAP_ACPI_RECLAIMABLE 3
#define MEMMAP_ACPI_NVS         4
#define MEMMAP_BAD              5

#define MEMMAP_MAX_ENTRIES 256 /* raw entries a map may have */
#define MEMMAP_MAX_RANGES  256 /* usable ranges after subtraction */

/* One entry as the loader gave it. */
struct memmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

/* A half-open physical range [start, end). */
struct mem_range {
	paddr_t start;
	paddr_t end;
};

struct memmap {
	/* As reported, in the loader's order (printed as the E820 lines). */
	struct memmap_entry entry[MEMMAP_MAX_ENTRIES];
	size_t nentries;
	/* Derived by memmap_compute(). */
	struct mem_range usable[MEMMAP_MAX_RANGES];
	size_t nusable;
	uint64_t usable_frames;
};

void memmap_reset(struct memmap *m);
int memmap_add(struct memmap *m, uint64_t base, uint64_t length, uint32_t type);
int memmap_compute(struct memmap *m);
const char *memmap_check(const struct memmap *m);
const char *memmap_type_name(uint32_t type);
bool memmap_is_usable(const struct memmap *m, paddr_t pa);
paddr_t memmap_end(const struct memmap *m);
int memmap_find_free(const struct memmap *m, const struct mem_range *busy, size_t nbusy,
                     uint64_t size, paddr_t limit, paddr_t *out);

#endif /* KERNEL_MEMMAP_H */
