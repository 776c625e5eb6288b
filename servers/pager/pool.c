/*
 * The user pool: the free frames the boot-info page lists, in a buddy
 * allocator (buddy.c), and the pager's window on them: a physmap, every
 * pool frame (and each module's copy, read-only) mapped in the pager's own
 * address space at PHYSMAP_BASE + its physical address, once, at start.
 *
 * Why a physmap and not a scratch window: a fault then costs one map
 * system call (into the faulting task), where a window costs three (map
 * at the scratch address, fill, unmap, then map into the task). Each pool
 * frame counts one mapping more in the kernel for it (it may be shared
 * 65533 times, not 65534). A frame given to the kernel (donate) leaves the
 * physmap first.
 *
 * The physmap uses 2 MiB pages (MICA_MAP_LARGE) for every 2 MiB that lies
 * whole in one boot-info range, 4 KiB pages for the rest: its page tables
 * cost 8 bytes per 2 MiB instead of 8 bytes per frame, and mapping 4 GiB
 * takes two thousand calls, not a million page entries. A 2 MiB page is
 * unmapped only whole, so donating frames from one splits it first
 * (physmap_split): the large bitmap says which are still whole.
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
static uint64_t meta_bytes; /* carved for the buddy metadata, refs, large (pool_meta_bytes) */

static int donate(uint64_t f, uint64_t n);

/* Per 2 MiB of the span, from span_base's: set while mapped as one 2 MiB page. */
static uint64_t *large;

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

#define LARGE_FRAMES MICA_MAP_LARGE_PAGES
#define RW           (MICA_MAP_READ | MICA_MAP_WRITE)

/* The whole 2 MiB pages inside n frames from frame `first`: [*lo, *hi) in frames. */
static void large_part(uint64_t first, uint64_t n, uint64_t *lo, uint64_t *hi)
{
	*lo = (first + LARGE_FRAMES - 1) / LARGE_FRAMES * LARGE_FRAMES;
	*hi = (first + n) / LARGE_FRAMES * LARGE_FRAMES;
	if (*hi < *lo)
		*hi = *lo;
}

/*
 * Map a boot-info range into the physmap, read-write: its whole 2 MiB
 * pages as such, the ends with 4 KiB pages.
 */
static int physmap_range(uint64_t first, uint64_t n)
{
	uint64_t lo, hi;
	int r;

	large_part(first, n, &lo, &hi);
	if (hi == lo)
		return physmap(first * PAGE, n, RW); /* no whole 2 MiB in it */
	if ((r = physmap(first * PAGE, lo - first, RW)) < 0)
		return r;
	for (uint64_t f = lo; f < hi;) {
		uint64_t step = hi - f < MICA_MAP_MAX_PAGES ? hi - f : MICA_MAP_MAX_PAGES;
		int64_t m = mica_map(boot->aspace, PHYSMAP_BASE + f * PAGE, f * PAGE, step,
		                     RW | MICA_MAP_LARGE);

		if (m < 0)
			return (int)m;
		f += step;
	}
	return physmap(hi * PAGE, first + n - hi, RW);
}

/* Is frame f in a physmap 2 MiB page that is still whole? */
static bool in_large(uint64_t f)
{
	uint64_t i = f / LARGE_FRAMES - span_base / LARGE_FRAMES;

	return (large[i / 64] >> (i % 64)) & 1;
}

/*
 * Unmap the whole 2 MiB page holding frames [f, f + n) and map it again
 * with 4 KiB pages, all but those n: they leave the physmap (for donate).
 * The 4 KiB pages need one page table from the kernel's reserve, so the
 * caller donates the n frames in between (`give`), and only then are the
 * others mapped again. Returns 0 or the error of the unmap or the donate
 * (then the page is mapped whole again).
 */
static int physmap_split(uint64_t f, uint64_t n, int (*give)(uint64_t f, uint64_t n))
{
	uint64_t base = f / LARGE_FRAMES * LARGE_FRAMES;
	uint64_t i = base / LARGE_FRAMES - span_base / LARGE_FRAMES;
	int64_t r = mica_unmap(boot->aspace, PHYSMAP_BASE + base * PAGE, LARGE_FRAMES, 0);

	if (r < 0)
		return (int)r;
	if ((r = give(f, n)) < 0) {
		/* Whole again (its directory may need a reserve frame: say if there was none). */
		if (mica_map(boot->aspace, PHYSMAP_BASE + base * PAGE, base * PAGE, LARGE_FRAMES,
		             RW | MICA_MAP_LARGE) < 0) {
			log_str("pager: bug: cannot map the physmap again at ");
			log_hex(base * PAGE);
			log_str("\n");
		}
		return (int)r;
	}
	large[i / 64] &= ~(1ULL << (i % 64));
	if ((r = physmap(base * PAGE, f - base, RW)) < 0 ||
	    (r = physmap((f + n) * PAGE, base + LARGE_FRAMES - f - n, RW)) < 0) {
		/* The reserve just got n frames: a table for them cannot be missing. */
		log_str("pager: bug: cannot map the physmap again at ");
		log_hex(base * PAGE);
		log_str("\n");
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
		if ((r = physmap_range(g->start / PAGE, g->npages)) < 0)
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
	uint64_t nlarge = (hi + LARGE_FRAMES - 1) / LARGE_FRAMES - lo / LARGE_FRAMES;
	uint64_t refs_bytes = ((hi - lo) * sizeof(*refs) + 7) / 8 * 8;
	uint64_t meta_pages =
	    buddy_pages + (refs_bytes + (nlarge + 63) / 64 * sizeof(uint64_t) + PAGE - 1) / PAGE;

	for (uint32_t i = 0; i < boot->nranges && !meta_range; i++)
		if (boot->range[i].npages > meta_pages)
			meta_range = &boot->range[i];
	if (!meta || !meta_range)
		return MICA_ENOMEM;
	mem_zero(PHYS(meta_range->start), meta_pages * PAGE);
	if ((r = buddy_init(&pool, PHYS(meta_range->start), buddy_pages * PAGE, lo, hi - lo)) < 0)
		return r;
	refs = PHYS(meta_range->start + buddy_pages * PAGE);
	large = (uint64_t *)((char *)refs + refs_bytes);
	meta_bytes = meta_pages * PAGE;
	span_base = lo;
	span_frames = hi - lo;
	/* The 2 MiB pages physmap_range made (already zeroed: none). */
	for (uint32_t i = 0; i < boot->nranges && i < MICA_BOOTINFO_RANGES; i++) {
		uint64_t a, b;

		large_part(boot->range[i].start / PAGE, boot->range[i].npages, &a, &b);
		for (uint64_t f = a; f < b; f += LARGE_FRAMES) {
			uint64_t k = f / LARGE_FRAMES - lo / LARGE_FRAMES;

			large[k / 64] |= 1ULL << (k % 64);
		}
	}
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

/*
 * One frame's physical address with its old contents, or 0 when the pool
 * is empty: only for a caller that writes every byte of it before anyone
 * else can see it (fault_frame: an image page, copied and zeroed around).
 */
uint64_t frame_alloc_unzeroed(void)
{
	uint64_t f;

	if (buddy_alloc(&pool, 0, &f) < 0)
		return 0;
	refs[f - span_base] = 1;
	return f * PAGE;
}

/* One zeroed frame's physical address, or 0 when the pool is empty. */
uint64_t frame_alloc(void)
{
	uint64_t pa = frame_alloc_unzeroed();

	if (pa)
		mem_zero(PHYS(pa), PAGE);
	return pa;
}

/*
 * A new frame holding a copy of the frame at pa (copy on write, cow.c):
 * its physical address, or 0 if the pool is empty. Not zeroed first.
 */
uint64_t frame_copy(uint64_t pa)
{
	uint64_t f;

	if (buddy_alloc(&pool, 0, &f) < 0)
		return 0;
	refs[f - span_base] = 1;
	void *d = PHYS(f * PAGE);
	const void *src = PHYS(pa);
	uint64_t n = PAGE / 8;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return f * PAGE;
}

/* Is the frame at pa mapped in more than one address space (its count above 1)? */
bool frame_shared(uint64_t pa)
{
	uint64_t i = pa / PAGE - span_base;

	return i < span_frames && refs[i] > 1;
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

/* Give n unmapped frames from frame f to the kernel's reserve (0 or an error). */
static int donate(uint64_t f, uint64_t n)
{
	int64_t r = mica_donate(boot->aspace, f * PAGE, n);

	return r < 0 ? (int)r : 0;
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

		if (in_large(f)) {
			if (physmap_split(f, n, donate) < 0) {
				buddy_free(&pool, f, DONATE_STEP);
				return;
			}
		} else if (mica_unmap(boot->aspace, PHYSMAP_BASE + f * PAGE, n, 0) < 0 ||
		           donate(f, n) < 0) {
			(void)physmap(f * PAGE, n, RW);
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
	uint64_t words = n / 8, rest = n % 8;

	__asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(0ULL) : "memory");
	__asm__ volatile("rep stosb" : "+D"(p), "+c"(rest) : "a"(0ULL) : "memory");
}

/* Copy n bytes from s to d (not overlapping): 8 bytes a step, then the last bytes. */
void mem_copy(void *d, const void *s, uint64_t n)
{
	uint64_t words = n / 8, rest = n % 8;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(rest) : : "memory");
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
	mica_unmap(boot->aspace, scratch + PAGE, 1, 0);
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
