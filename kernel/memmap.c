/*
 * Memory map: keeps the loader's entries and derives the usable frames.
 *
 * Entries may be unsorted, may overlap, and may leave holes (the PCI hole
 * below 4 GiB, with RAM continuing above it). A byte is usable only if some
 * available entry covers it and no entry of another type does; a frame is
 * usable only if all its bytes are. So: merge the available entries, cut
 * out every other entry rounded outwards to whole frames, and round what is
 * left inwards to whole frames.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include "memmap.h"

/* Forget every entry and every derived range. */
void memmap_reset(struct memmap *m)
{
	m->nentries = 0;
	m->nusable = 0;
	m->usable_frames = 0;
}

/*
 * Record one entry as the loader gave it. Zero-length entries are kept
 * (they are printed) but cover nothing. Returns MICA_ENOMEM when the map
 * holds MEMMAP_MAX_ENTRIES already: dropping an entry silently could make
 * reserved memory look usable.
 */
int memmap_add(struct memmap *m, uint64_t base, uint64_t length, uint32_t type)
{
	if (m->nentries == MEMMAP_MAX_ENTRIES)
		return MICA_ENOMEM;
	m->entry[m->nentries++] = (struct memmap_entry){base, length, type};
	return MICA_OK;
}

/* The name printed for a type in the E820 lines. */
const char *memmap_type_name(uint32_t type)
{
	switch (type) {
	case MEMMAP_AVAILABLE:
		return "available";
	case MEMMAP_RESERVED:
		return "reserved";
	case MEMMAP_ACPI_RECLAIMABLE:
		return "ACPI data";
	case MEMMAP_ACPI_NVS:
		return "ACPI NVS";
	case MEMMAP_BAD:
		return "unusable";
	default:
		return "unknown";
	}
}

/* An entry's end, exclusive, saturated at MICA_PHYS_LIMIT. */
static paddr_t entry_end(const struct memmap_entry *e)
{
	if (e->base >= MICA_PHYS_LIMIT)
		return MICA_PHYS_LIMIT;
	if (e->length > MICA_PHYS_LIMIT - e->base)
		return MICA_PHYS_LIMIT;
	return e->base + e->length;
}

/* Insert r into the sorted array a[0..*n) keeping it sorted by start. */
static int range_insert(struct mem_range *a, size_t *n, struct mem_range r)
{
	size_t i;

	if (*n == MEMMAP_MAX_RANGES)
		return MICA_ENOMEM;
	for (i = *n; i > 0 && a[i - 1].start > r.start; i--)
		a[i] = a[i - 1];
	a[i] = r;
	(*n)++;
	return MICA_OK;
}

/* Remove [cut.start, cut.end) from every range of a[0..*n). */
static int range_subtract(struct mem_range *a, size_t *n, struct mem_range cut)
{
	size_t i = 0;

	while (i < *n) {
		struct mem_range *r = &a[i];

		if (cut.end <= r->start || cut.start >= r->end) {
			i++;
		} else if (cut.start <= r->start && cut.end >= r->end) {
			/* Covers the whole range: drop it. */
			for (size_t j = i + 1; j < *n; j++)
				a[j - 1] = a[j];
			(*n)--;
		} else if (cut.start <= r->start) {
			r->start = cut.end;
			i++;
		} else if (cut.end >= r->end) {
			r->end = cut.start;
			i++;
		} else {
			/* Strictly inside: split in two. */
			struct mem_range tail = {cut.end, r->end};

			r->end = cut.start;
			if (range_insert(a, n, tail) != MICA_OK)
				return MICA_ENOMEM;
			i += 2;
		}
	}
	return MICA_OK;
}

/*
 * Derive the usable ranges from the entries. Returns MICA_ENOMEM if the
 * result would need more than MEMMAP_MAX_RANGES ranges.
 */
int memmap_compute(struct memmap *m)
{
	struct mem_range *u = m->usable;
	size_t n = 0;

	m->nusable = 0;
	m->usable_frames = 0;

	/* 1. Available entries, sorted, merged where they overlap or touch. */
	for (size_t i = 0; i < m->nentries; i++) {
		const struct memmap_entry *e = &m->entry[i];
		struct mem_range r = {e->base, entry_end(e)};

		if (e->type != MEMMAP_AVAILABLE || r.start >= r.end)
			continue;
		if (range_insert(u, &n, r) != MICA_OK)
			return MICA_ENOMEM;
	}
	size_t merged = 0;
	for (size_t i = 0; i < n; i++) {
		if (merged > 0 && u[i].start <= u[merged - 1].end)
			u[merged - 1].end = MAX(u[merged - 1].end, u[i].end);
		else
			u[merged++] = u[i];
	}
	n = merged;

	/* 2. Every other entry, widened to whole frames, is cut out. */
	for (size_t i = 0; i < m->nentries; i++) {
		const struct memmap_entry *e = &m->entry[i];
		paddr_t end = entry_end(e);

		if (e->type == MEMMAP_AVAILABLE || e->base >= end)
			continue;
		struct mem_range cut = {ALIGN_DOWN(e->base, MICA_PAGE_SIZE),
		                        MIN(ALIGN_UP(end, MICA_PAGE_SIZE), MICA_PHYS_LIMIT)};
		if (range_subtract(u, &n, cut) != MICA_OK)
			return MICA_ENOMEM;
	}

	/* 3. What is left, narrowed to whole frames. */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		paddr_t start = ALIGN_UP(u[i].start, MICA_PAGE_SIZE);
		paddr_t end = ALIGN_DOWN(u[i].end, MICA_PAGE_SIZE);

		if (start >= end)
			continue;
		u[kept++] = (struct mem_range){start, end};
		m->usable_frames += (end - start) >> MICA_PAGE_SHIFT;
	}
	m->nusable = kept;
	return MICA_OK;
}

/*
 * Is this map one Mica can boot with? Returns NULL if so, else a one-line
 * reason. Call after memmap_compute().
 */
const char *memmap_check(const struct memmap *m)
{
	uint64_t above_low = 0;

	if (m->nentries == 0)
		return "the memory map is empty";
	for (size_t i = 0; i < m->nusable; i++) {
		paddr_t start = MAX(m->usable[i].start, MICA_LOW_MEMORY_END);

		if (m->usable[i].end > start)
			above_low += m->usable[i].end - start;
	}
	if (above_low == 0)
		return "no usable RAM above 1 MiB";
	if (above_low < MICA_MIN_USABLE_RAM)
		return "too little memory: Mica needs 24 MiB of usable RAM above 1 MiB";
	return NULL;
}

/* Is the frame holding pa usable? Binary search over the sorted ranges. */
bool memmap_is_usable(const struct memmap *m, paddr_t pa)
{
	size_t lo = 0, hi = m->nusable;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pa < m->usable[mid].start)
			hi = mid;
		else if (pa >= m->usable[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The end of the highest usable range (0 if there is none). */
paddr_t memmap_end(const struct memmap *m)
{
	return m->nusable ? m->usable[m->nusable - 1].end : 0;
}

/*
 * Find the lowest page-aligned run of `size` usable bytes below `limit`
 * that overlaps none of the busy ranges. Used once at boot, to place the
 * boot allocator's arena away from the kernel, the boot information and
 * the modules. Returns MICA_ENOMEM if there is no such run.
 */
int memmap_find_free(const struct memmap *m, const struct mem_range *busy, size_t nbusy,
                     uint64_t size, paddr_t limit, paddr_t *out)
{
	size = ALIGN_UP(size, MICA_PAGE_SIZE);
	for (size_t i = 0; i < m->nusable; i++) {
		paddr_t start = m->usable[i].start;
		paddr_t end = MIN(m->usable[i].end, limit);

		/* Move start past every busy range that overlaps the candidate. */
		bool moved = true;
		while (moved && start < end && end - start >= size) {
			moved = false;
			for (size_t b = 0; b < nbusy; b++) {
				if (busy[b].start < start + size && busy[b].end > start) {
					start = ALIGN_UP(busy[b].end, MICA_PAGE_SIZE);
					moved = true;
				}
			}
		}
		if (start < end && end - start >= size) {
			*out = start;
			return MICA_OK;
		}
	}
	return MICA_ENOMEM;
}
