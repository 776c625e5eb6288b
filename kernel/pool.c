/*
 * The user pool. At boot every free frame beyond the kernel's reserve
 * leaves the frame bitmap (it stays marked used there, so the kernel never
 * allocates it) and joins the pool; the free ranges go to the pager in the
 * boot-info page. From then on the kernel only checks and counts: map
 * accepts pool frames alone, each frame's mappings are counted (refs), and
 * donate moves unmapped pool frames back into the reserve.
 *
 * refs has one 16-bit entry per frame up to the end of usable memory:
 * NOT_POOL, or the number of mappings of a pool frame (at most
 * MICA_MAP_MAX_SHARERS). Two bytes a frame, allocated from the reserve.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include <mica/memory.h>
#include "frame.h"
#include "kprintf.h"
#include "lib/string.h"
#include "panic.h"
#include "phys.h"
#include "pool.h"

#define NOT_POOL 0xFFFFu

static uint16_t *refs;
static uint64_t nframes;  /* entries in refs */
static uint64_t frames;   /* pool frames */
static uint64_t mapped;   /* pool frames with refs > 0 */
static uint64_t mappings; /* sum of refs */

/* Free pool frames not yet handed out, ascending, for the boot-info page. */
static struct mica_bootinfo_range range[MICA_BOOTINFO_RANGES];
static uint32_t nranges;

static uint64_t pfn(paddr_t pa)
{
	return pa >> MICA_PAGE_SHIFT;
}

/* Add [start, start + n pages) to the free ranges (called in descending order). */
static void range_add_below(paddr_t start, uint64_t n)
{
	if (nranges && range[nranges - 1].start == start + n * MICA_PAGE_SIZE) {
		range[nranges - 1].start = start;
		range[nranges - 1].npages += n;
		return;
	}
	range[nranges++] = (struct mica_bootinfo_range){start, n};
}

/*
 * Carve the pool: keep `reserve` free frames in the bitmap for the kernel
 * and move every other free frame, from the top of memory down, into the
 * pool. Stops early (leaving more to the reserve) if the free frames come
 * in more runs than the boot-info page can list.
 */
void pool_init(const struct memmap *m, uint64_t reserve)
{
	paddr_t end = memmap_end(m), pa;
	uint64_t bytes = ALIGN_UP(pfn(end) * sizeof(uint16_t), MICA_PAGE_SIZE);
	uint64_t want;

	if (frame_alloc_run(bytes / MICA_PAGE_SIZE, 1, &pa) != MICA_OK)
		panic("pool: no room for the frame counts (%lu bytes)", bytes);
	refs = phys_to_virt(pa);
	nframes = pfn(end);
	memset(refs, 0xFF, nframes * sizeof(uint16_t)); /* NOT_POOL everywhere */

	want = frame_free_count() > reserve ? frame_free_count() - reserve : 0;
	for (size_t r = m->nusable; r-- > 0 && want;) {
		uint64_t lo = pfn(m->usable[r].start), hi = pfn(m->usable[r].end), n;

		/* The highest free run left in the range, a bitmap word at a time. */
		while (want && (n = frame_take_top(lo, hi, want, &pa)) != 0) {
			if (nranges == MICA_BOOTINFO_RANGES) {
				(void)frame_free(pa, n); /* it stays the kernel's */
				kprintf("pool: free memory in more than %d runs; the rest stays "
				        "with the kernel\n",
				        MICA_BOOTINFO_RANGES);
				goto done;
			}
			memset(&refs[pfn(pa)], 0, n * sizeof(uint16_t));
			frames += n;
			want -= n;
			range_add_below(pa, n);
			hi = pfn(pa);
		}
	}
done:
	/* Collected top down: list them bottom up. */
	for (uint32_t i = 0; i < nranges / 2; i++) {
		struct mica_bootinfo_range t = range[i];

		range[i] = range[nranges - 1 - i];
		range[nranges - 1 - i] = t;
	}
}

/*
 * Take n contiguous free pool frames, from the lowest range that has them,
 * for what the kernel sets up for the first task (its pages, the modules'
 * copies). Errors: MICA_ENOMEM.
 */
int pool_take(uint64_t n, paddr_t *pa)
{
	for (uint32_t i = 0; i < nranges; i++) {
		if (range[i].npages < n)
			continue;
		*pa = range[i].start;
		range[i].start += n * MICA_PAGE_SIZE;
		range[i].npages -= n;
		if (range[i].npages == 0) {
			nranges--;
			memmove(&range[i], &range[i + 1], (nranges - i) * sizeof(range[0]));
		}
		return MICA_OK;
	}
	return MICA_ENOMEM;
}

/*
 * May [pa, pa + npages pages) be mapped once more? Errors: MICA_EALIGN,
 * MICA_EFRAME (a frame outside the pool), MICA_EBUSY (a frame already has
 * MICA_MAP_MAX_SHARERS mappings).
 */
int pool_check(paddr_t pa, uint64_t npages)
{
	if (!IS_ALIGNED(pa, MICA_PAGE_SIZE))
		return MICA_EALIGN;
	if (pfn(pa) >= nframes || npages > nframes - pfn(pa))
		return MICA_EFRAME;
	/* NOT_POOL is above MICA_MAP_MAX_SHARERS: one compare a frame finds either. */
	const uint16_t *r = &refs[pfn(pa)];

	_Static_assert(NOT_POOL > MICA_MAP_MAX_SHARERS, "NOT_POOL must fail the sharer check");
	for (uint64_t i = 0; i < npages; i++)
		if (r[i] >= MICA_MAP_MAX_SHARERS)
			return r[i] == NOT_POOL ? MICA_EFRAME : MICA_EBUSY;
	return MICA_OK;
}

/* Count one more mapping of each frame (checked by pool_check). */
void pool_ref(paddr_t pa, uint64_t npages)
{
	uint16_t *r = &refs[pfn(pa)];

	for (uint64_t i = 0; i < npages; i++) {
		mapped += r[i] == 0;
		r[i]++;
	}
	mappings += npages;
}

/* Count one mapping less of each frame. */
void pool_unref(paddr_t pa, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++) {
		uint16_t *r = &refs[pfn(pa) + i];

		if (*r == NOT_POOL || *r == 0)
			panic("pool: unmapping frame 0x%lx, which has no mapping",
			      pa + i * MICA_PAGE_SIZE);
		if (--*r == 0)
			mapped--;
	}
	mappings -= npages;
}

/*
 * Give pool frames back to the kernel's reserve. Errors: MICA_EALIGN,
 * MICA_EINVAL (npages 0 or past MICA_MAP_MAX_PAGES), MICA_EFRAME (a frame
 * outside the pool), MICA_EBUSY (a frame is still mapped).
 */
int pool_donate(paddr_t pa, uint64_t npages)
{
	if (npages == 0 || npages > MICA_MAP_MAX_PAGES)
		return MICA_EINVAL;
	int rc = pool_check(pa, npages);
	if (rc != MICA_OK)
		return rc;
	for (uint64_t i = 0; i < npages; i++)
		if (refs[pfn(pa) + i] != 0)
			return MICA_EBUSY;
	for (uint64_t i = 0; i < npages; i++)
		refs[pfn(pa) + i] = NOT_POOL;
	frames -= npages;
	(void)frame_free(pa, npages);
	return MICA_OK;
}

/* Bytes of the mapping counts (make bench: meta.kernel_bits_per_frame). */
uint64_t pool_meta_size(void)
{
	return nframes * sizeof(*refs);
}

uint64_t pool_total(void)
{
	return frames;
}

uint64_t pool_mapped(void)
{
	return mapped;
}

uint64_t pool_mappings(void)
{
	return mappings;
}

/* Copy the free ranges left after pool_take (at most max); *frames gets their sum. */
uint32_t pool_ranges(struct mica_bootinfo_range *out, uint32_t max, uint64_t *nfree)
{
	uint32_t n = MIN(max, nranges);

	*nfree = 0;
	for (uint32_t i = 0; i < n; i++) {
		out[i] = range[i];
		*nfree += range[i].npages;
	}
	return n;
}
