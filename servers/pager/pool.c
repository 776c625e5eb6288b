/*
 * The user pool: the free frames the boot-info page lists, in a buddy
 * allocator (buddy.c), and the pager's window on them: a physmap, every
 * pool frame (and each module's copy, read-only) mapped in the pager's own
 * address space at PHYSMAP_BASE + its physical address, once, at start.
 *
 * Why a physmap and not a scratch window: a fault then costs one map
 * system call (into the faulting task), where a window costs three (map
 * at the scratch address, fill, unmap, then map into the task). The price
 * is page tables from the kernel's reserve for the whole pool, one per
 * 512 frames (0.2% of the pool: 64 KiB for 128 MiB), and each pool frame
 * counting one mapping more in the kernel (it may be shared 65533 times,
 * not 65534). A frame given to the kernel (donate) leaves the physmap first.
 */
#include "pager.h"

struct buddy pool;
uint64_t pool_donated;

/*
 * Mappings of each frame of the span that the pager made (2 bytes a
 * frame, carved with the buddy metadata): 1 from frame_alloc, one more
 * per address space it is shared into; the frame goes back to the buddy
 * allocator when the last one is gone.
 */
static uint16_t *refs;
static uint64_t span_base, span_frames;
static uint64_t meta_bytes; /* carved for the buddy metadata and refs (pool_meta_bytes) */

#define PAGE        MICA_PAGE_SIZE
#define RESERVE_LOW 64 /* kernel reserve frames below which the pager donates */
#define DONATE_STEP 4  /* order of the blocks donated: 16 frames */

/* Map n frames from pa at their physmap address, in steps the kernel accepts. */
static int physmap(uint64_t pa, uint64_t n, uint32_t rights)
{
	while (n) {
		uint64_t step = n < MICA_MAP_MAX_PAGES ? n : MICA_MAP_MAX_PAGES;
		int64_t r = mica_map(boot->aspace, PHYSMAP_BASE + pa, pa, step, rights);

		if (r < 0)
			return (int)r;
		pa += step * PAGE;
		n -= step;
	}
	return 0;
}

/*
 * Map the pool and the modules, carve the buddy allocator's metadata from
 * the first range large enough and give it every other free frame.
 * Returns 0 or an error (the pager cannot run then).
 */
int pool_init(void)
{
	static const struct mica_bootinfo_range *meta_range;
	uint64_t lo = UINT64_MAX, hi = 0;
	int r;

	/* The span of the buddy allocator: every listed range, in frames. */
	for (uint32_t i = 0; i < boot->nranges && i < MICA_BOOTINFO_RANGES; i++) {
		const struct mica_bootinfo_range *g = &boot->range[i];

		if (!g->npages)
			continue;
		if (g->start / PAGE < lo)
			lo = g->start / PAGE;
		if (g->start / PAGE + g->npages > hi)
			hi = g->start / PAGE + g->npages;
		if ((r = physmap(g->start, g->npages, MICA_MAP_READ | MICA_MAP_WRITE)) < 0)
			return r;
	}
	if (hi <= lo)
		return MICA_ENOMEM;
	for (uint32_t i = 0; i < boot->nmodules && i < MICA_BOOTINFO_MODULES; i++) {
		const struct mica_bootinfo_module *m = &boot->module[i];

		if ((m->flags & MICA_MODULE_IN_POOL) &&
		    (r = physmap(m->start, (m->size + PAGE - 1) / PAGE, MICA_MAP_READ)) < 0)
			return r;
	}
	size_t meta = buddy_meta_size(lo, hi - lo);
	uint64_t buddy_pages = (meta + PAGE - 1) / PAGE;
	uint64_t meta_pages = buddy_pages + ((hi - lo) * sizeof(*refs) + PAGE - 1) / PAGE;

	for (uint32_t i = 0; i < boot->nranges && !meta_range; i++)
		if (boot->range[i].npages > meta_pages)
			meta_range = &boot->range[i];
	if (!meta || !meta_range)
		return MICA_ENOMEM;
	mem_zero(PHYS(meta_range->start), meta_pages * PAGE);
	if ((r = buddy_init(&pool, PHYS(meta_range->start), buddy_pages * PAGE, lo, hi - lo)) < 0)
		return r;
	refs = PHYS(meta_range->start + buddy_pages * PAGE);
	meta_bytes = meta_pages * PAGE;
	span_base = lo;
	span_frames = hi - lo;
	for (uint32_t i = 0; i < boot->nranges && i < MICA_BOOTINFO_RANGES; i++) {
		const struct mica_bootinfo_range *g = &boot->range[i];
		uint64_t first = g->start / PAGE, n = g->npages;

		if (g == meta_range)
			first += meta_pages, n -= meta_pages;
		if (n && (r = buddy_add_range(&pool, first, n)) < 0)
			return r;
	}
	return 0;
}

/* One zeroed frame's physical address, or 0 when the pool is empty. */
uint64_t frame_alloc(void)
{
	uint64_t f;

	if (buddy_alloc(&pool, 0, &f) < 0)
		return 0;
	refs[f - span_base] = 1;
	mem_zero(PHYS(f * PAGE), PAGE);
	return f * PAGE;
}

/*
 * One more mapping of a frame frame_alloc gave (sharing). MICA_EBUSY if
 * it has as many as a count holds, MICA_EFRAME if it is no such frame.
 */
int frame_ref(uint64_t pa)
{
	uint64_t i = pa / PAGE - span_base;

	if (i >= span_frames || !refs[i])
		return MICA_EFRAME;
	if (refs[i] == UINT16_MAX)
		return MICA_EBUSY;
	refs[i]++;
	return 0;
}

/*
 * Drop one mapping of a frame frame_alloc gave; the last one returns it
 * to the pool. A frame that is not one is only reported (a pager bug).
 */
void frame_free(uint64_t pa)
{
	uint64_t i = pa / PAGE - span_base;
	int r = MICA_EFRAME;

	if (i < span_frames && refs[i] > 1) {
		refs[i]--;
		return;
	}
	if (i < span_frames && refs[i] == 1) {
		refs[i] = 0;
		r = buddy_free(&pool, pa / PAGE, 0);
	}
	if (r < 0) {
		log_str("pager: bug: freeing frame ");
		log_hex(pa);
		log_str(" failed\n");
	}
}

/*
 * The kernel takes page tables from its reserve; when that runs low
 * (mem_stats), give it blocks of pool frames: out of the physmap first,
 * since only unmapped frames can be donated. Who calls: anyone about to
 * map, and a map that failed with MICA_ENOMEM before it retries.
 */
void pool_feed_kernel(void)
{
	struct mica_mem_stats st;

	for (int i = 0; i < 4; i++) {
		uint64_t f;

		if (mica_mem_stats(&st) < 0 || st.reserve_free >= RESERVE_LOW)
			return;
		if (buddy_alloc(&pool, DONATE_STEP, &f) < 0)
			return;
		uint64_t n = 1ULL << DONATE_STEP;

		if (mica_unmap(boot->aspace, PHYSMAP_BASE + f * PAGE, n, 0) < 0 ||
		    mica_donate(boot->aspace, f * PAGE, n) < 0) {
			(void)physmap(f * PAGE, n, MICA_MAP_READ | MICA_MAP_WRITE);
			buddy_free(&pool, f, DONATE_STEP);
			return;
		}
		pool_donated += n;
	}
}

uint64_t pool_meta_bytes(void)
{
	return meta_bytes;
}

/* Zero n bytes at p (n a multiple of 8). */
void mem_zero(void *p, uint64_t n)
{
	uint64_t words = n / 8;

	__asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(0ULL) : "memory");
}

/* Copy n bytes from s to d (not overlapping). */
void mem_copy(void *d, const void *s, uint64_t n)
{
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

/* The time stamp counter (instructions, under make bench's -icount). */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * What the physmap saves: the cost of the scratch window it replaces, one
 * map and one unmap of a frame in the pager's own address space per
 * fault, printed as a bench line. Run at start with pager.measure (make
 * bench sets it).
 */
void pool_measure_window(void)
{
	const uint64_t n = 256, scratch = PHYSMAP_BASE - MICA_LARGE_PAGE_SIZE + PAGE;
	uint64_t pa = frame_alloc(), anchor = frame_alloc(), t0, t1;

	if (!pa || !anchor)
		return;
	/* A page beside the window stays mapped, so its page tables stay too (a real window's
	 * would). */
	mica_map(boot->aspace, scratch + PAGE, anchor, 1, MICA_MAP_READ);
	uint64_t tmap = 0, tunmap = 0;

	for (uint64_t i = 0; i < n; i++) {
		t0 = rdtsc();
		mica_map(boot->aspace, scratch, pa, 1, MICA_MAP_READ | MICA_MAP_WRITE);
		t1 = rdtsc();
		*(volatile uint64_t *)scratch = i;
		tmap += t1 - t0;
		t0 = rdtsc();
		mica_unmap(boot->aspace, scratch, 1, 0);
		tunmap += rdtsc() - t0;
	}
	mica_unmap(boot->aspace, scratch - PAGE, 1, 0);
	frame_free(pa);
	frame_free(anchor);
	log_str("bench pager.window.map ");
	log_num(tmap / n);
	log_str(" instr/op n=");
	log_num(n);
	log_str("\nbench pager.window.unmap ");
	log_num(tunmap / n);
	log_str(" instr/op n=");
	log_num(n);
	log_str("\n");
}
