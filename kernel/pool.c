/*
 * The user pool. At boot every free frame beyond the kernel's reserve
 * leaves the frame bitmap (it stays marked used there, so the kernel never
 * allocates it) and joins the pool; the free ranges go to the pager in the
 * boot-info page. From then on the kernel only checks and counts: map
 * accepts pool frames alone, each frame's mappings are counted, and donate
 * moves unmapped pool frames back into the reserve.
 *
 * Two bits a frame say what the kernel must know (docs/ARCHITECTURE.md,
 * "Memory per frame"):
 *   NONE  not the pool's: the kernel's (reserve, page tables, objects) or
 *         no RAM; never mapped in user space
 *   FREE  a pool frame with no mapping (only these may be donated)
 *   ONCE  a pool frame with exactly one mapping
 *   MANY  a pool frame with two mappings or more
 * A MANY frame's exact count lives in `shared`, a hash table over reserve
 * frames, but only when it is 3 or more: no entry means 2. So the common
 * sharing, a frame in the pager's physmap and in one task, costs no entry;
 * the table holds only frames really shared between tasks, and it grows
 * (and is freed when it empties) with them.
 *
 * The states are kept per 2 MiB chunk of physical memory (512 frames, 128
 * bytes): a directory with one 32-bit entry per chunk up to the end of
 * memory points at the chunk's states. Chunks without usable RAM (the PCI
 * hole below 4 GiB) all share one chunk of NONE, so holes cost 4 bytes per
 * 2 MiB, not 128.
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

/* A frame's state (two bits). */
#define S_NONE 0u
#define S_FREE 1u
#define S_ONCE 2u
#define S_MANY 3u

#define CHUNK_SHIFT  9 /* 512 frames: 2 MiB */
#define CHUNK_FRAMES (1u << CHUNK_SHIFT)
#define CHUNK_BYTES  (CHUNK_FRAMES / 4)
#define WORD_FRAMES  32                    /* states in one uint64_t */
#define LOW_BITS     0x5555555555555555ULL /* the low bit of every state */

/* ---- state ---- */

static uint64_t *states;  /* chunk 0: all NONE (holes), then one per chunk with RAM */
static uint32_t *dir;     /* per chunk of memory: its index in states, in chunks */
static uint64_t nframes;  /* frames covered by dir: whole chunks up to the end of memory */
static uint64_t nchunks;  /* chunks in states, the shared NONE chunk included */
static uint64_t frames;   /* pool frames */
static uint64_t mapped;   /* pool frames with a mapping */
static uint64_t mappings; /* all mappings of pool frames */

/*
 * Exact counts of frames with 3 or more mappings: open addressing with
 * linear probing; an entry is (frame number + 1) << COUNT_BITS | count,
 * 0 when empty. At most 3/4 full; 0 slots when nothing is shared so much.
 */
#define COUNT_BITS 20
#define COUNT_MASK ((1ULL << COUNT_BITS) - 1)
static uint64_t *shared;
static uint64_t shared_cap;  /* slots: 0 or a power of two, whole frames */
static uint64_t shared_used; /* entries */

/*
 * A larger table pool_check allocated for the map it checked: it takes
 * over at pool_ref, or goes back to the reserve at pool_abort (the map
 * was refused after all), so a refused map changes nothing.
 */
static uint64_t *pending;
static uint64_t pending_cap;

_Static_assert(MICA_MAP_MAX_SHARERS <= COUNT_MASK, "a count must fit its entry");
_Static_assert(MICA_MAP_MAX_SHARERS >= 3, "counts of 3 and more live in `shared`");

/* Free pool frames not yet handed out, ascending, for the boot-info page. */
static struct mica_bootinfo_range range[MICA_BOOTINFO_RANGES];
static uint32_t nranges;

static uint64_t pfn(paddr_t pa)
{
	return pa >> MICA_PAGE_SHIFT;
}

/* Set bits (no libgcc in the kernel). */
static uint64_t popcount(uint64_t x)
{
	x = x - ((x >> 1) & LOW_BITS);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

/* The index of frame f's state (f < nframes). */
static uint64_t slot(uint64_t f)
{
	return ((uint64_t)dir[f >> CHUNK_SHIFT] << CHUNK_SHIFT) | (f & (CHUNK_FRAMES - 1));
}

static unsigned state_get(uint64_t f)
{
	uint64_t s = slot(f);

	return (unsigned)(states[s / WORD_FRAMES] >> (2 * (s % WORD_FRAMES))) & 3u;
}

static void state_set(uint64_t f, unsigned v)
{
	uint64_t s = slot(f), *w = &states[s / WORD_FRAMES];
	unsigned sh = 2 * (s % WORD_FRAMES);

	*w = (*w & ~(3ULL << sh)) | ((uint64_t)v << sh);
}

/* The word holding frame f's state, and the state's shift in it (f < nframes). */
static uint64_t *state_word(uint64_t f, unsigned *sh)
{
	uint64_t s = slot(f);

	*sh = 2 * (unsigned)(s % WORD_FRAMES);
	return &states[s / WORD_FRAMES];
}

/*
 * A run of frames as whole-word pieces: frames [f, f + k) are states at
 * bits `sh` up of *w, with `low` the low bit of each. k is at most what
 * is left of the word (a chunk is whole words, so a word never spans two).
 */
struct piece {
	uint64_t *w;
	uint64_t low;
	uint64_t k;
	unsigned sh;
};

static void piece_of(uint64_t f, uint64_t n, struct piece *p)
{
	uint64_t s = slot(f);
	unsigned b = (unsigned)(s % WORD_FRAMES);

	p->k = MIN(n, (uint64_t)(WORD_FRAMES - b));
	p->w = &states[s / WORD_FRAMES];
	p->sh = 2 * b;
	p->low = (p->k == WORD_FRAMES ? LOW_BITS : LOW_BITS & ((1ULL << (2 * p->k)) - 1)) << p->sh;
}

/* Give frames [f, f + n) state v, a word at a time. */
static void state_fill(uint64_t f, uint64_t n, unsigned v)
{
	while (n) {
		struct piece p;

		piece_of(f, n, &p);
		*p.w = (*p.w & ~(p.low * 3)) | (p.low * v);
		f += p.k;
		n -= p.k;
	}
}

/* ---- shared counts ---- */

static uint64_t hash_home(uint64_t f)
{
	return (f * 0x9E3779B97F4A7C15ULL) >> 32 & (shared_cap - 1);
}

/* Frame f's entry in `shared`, or NULL. */
static uint64_t *shared_find(uint64_t f)
{
	uint64_t key = f + 1;

	if (!shared_used)
		return NULL;
	for (uint64_t i = hash_home(f);; i = (i + 1) & (shared_cap - 1)) {
		if (shared[i] == 0)
			return NULL;
		if (shared[i] >> COUNT_BITS == key)
			return &shared[i];
	}
}

/* Add f with count c (room checked by shared_reserve). */
static void shared_put(uint64_t f, uint64_t c)
{
	uint64_t i = hash_home(f);

	if ((shared_used + 1) * 4 > shared_cap * 3)
		panic("pool: shared counts full (room not reserved)");
	while (shared[i])
		i = (i + 1) & (shared_cap - 1);
	shared[i] = (f + 1) << COUNT_BITS | c;
	shared_used++;
}

/* The slots one table of `cap` slots occupies, in frames. */
static uint64_t shared_frames(uint64_t cap)
{
	return cap * sizeof(uint64_t) / MICA_PAGE_SIZE;
}

/*
 * Remove the entry at *e, moving later entries of its probe run back so
 * that every entry stays reachable from its home slot; the table goes back
 * to the reserve when it empties.
 */
static void shared_remove(uint64_t *e)
{
	uint64_t hole = (uint64_t)(e - shared), mask = shared_cap - 1;

	for (uint64_t i = (hole + 1) & mask; shared[i]; i = (i + 1) & mask) {
		uint64_t home = hash_home((shared[i] >> COUNT_BITS) - 1);

		/* Movable when its home is not in (hole, i], cyclically. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			shared[hole] = shared[i];
			hole = i;
		}
	}
	shared[hole] = 0;
	if (--shared_used == 0) {
		(void)frame_free(virt_to_phys(shared), shared_frames(shared_cap));
		shared = NULL;
		shared_cap = 0;
	}
}

/*
 * Make room for `more` entries beyond those there: if the table would
 * pass 3/4 full, allocate a larger one (from the reserve, one contiguous
 * run) to take over at pool_ref. Errors: MICA_ENOMEM (the reserve has no
 * such run; nothing changes).
 */
static int shared_reserve(uint64_t more)
{
	uint64_t want = shared_used + more, cap = MICA_PAGE_SIZE / sizeof(uint64_t);
	paddr_t pa;

	pool_abort();
	if (want * 4 <= shared_cap * 3)
		return MICA_OK;
	while (want * 4 > cap * 3)
		cap *= 2;
	if (frame_alloc_run(shared_frames(cap), 1, &pa) != MICA_OK)
		return MICA_ENOMEM;
	pending = phys_to_virt(pa);
	pending_cap = cap;
	memset(pending, 0, cap * sizeof(uint64_t));
	return MICA_OK;
}

/*
 * Move every entry into the pending table, if there is one, and free the
 * old: at the first count pool_ref adds (out of line: the one-frame path
 * without counts stays lean).
 */
static __attribute__((noinline)) void shared_commit(void)
{
	uint64_t *old = shared, old_cap = shared_cap;

	if (!pending)
		return;
	shared = pending;
	shared_cap = pending_cap;
	shared_used = 0;
	pending = NULL;
	for (uint64_t i = 0; i < old_cap; i++)
		if (old[i])
			shared_put((old[i] >> COUNT_BITS) - 1, old[i] & COUNT_MASK);
	if (old)
		(void)frame_free(virt_to_phys(old), shared_frames(old_cap));
}

/*
 * The map pool_check allowed was refused after all (by the page tables):
 * give back the table pool_check allocated for it, if any.
 */
void pool_abort(void)
{
	if (pending)
		(void)frame_free(virt_to_phys(pending), shared_frames(pending_cap));
	pending = NULL;
}

/* ---- boot ---- */

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
 * The directory and the states: one chunk of states for every 2 MiB with
 * usable RAM (ranges are sorted, so a chunk shared by two ranges is seen
 * twice in a row), the NONE chunk for every other.
 */
static void states_init(const struct memmap *m)
{
	uint64_t ndir = (pfn(memmap_end(m)) + CHUNK_FRAMES - 1) >> CHUNK_SHIFT, last = UINT64_MAX;
	uint64_t bytes;
	paddr_t pa;

	nchunks = 1;
	for (size_t r = 0; r < m->nusable; r++) {
		uint64_t lo = pfn(m->usable[r].start) >> CHUNK_SHIFT;
		uint64_t hi = (pfn(m->usable[r].end) - 1) >> CHUNK_SHIFT;

		nchunks += hi - lo + 1 - (lo == last);
		last = hi;
	}
	bytes = ALIGN_UP(nchunks * CHUNK_BYTES + ndir * sizeof(uint32_t), MICA_PAGE_SIZE);
	if (frame_alloc_run(bytes / MICA_PAGE_SIZE, 1, &pa) != MICA_OK)
		panic("pool: no room for the frame states (%lu bytes)", bytes);
	states = phys_to_virt(pa);
	dir = (uint32_t *)((uint8_t *)states + nchunks * CHUNK_BYTES);
	memset(states, 0, bytes); /* every frame NONE, every chunk the hole chunk */
	nframes = ndir << CHUNK_SHIFT;

	uint64_t next = 1;
	last = UINT64_MAX;
	for (size_t r = 0; r < m->nusable; r++) {
		uint64_t lo = pfn(m->usable[r].start) >> CHUNK_SHIFT;
		uint64_t hi = (pfn(m->usable[r].end) - 1) >> CHUNK_SHIFT;

		for (uint64_t c = lo; c <= hi; c++)
			if (c != last)
				dir[c] = (uint32_t)next++;
		last = hi;
	}
}

/*
 * Carve the pool: keep `reserve` free frames in the bitmap for the kernel
 * and move every other free frame, from the top of memory down, into the
 * pool. Stops early (leaving more to the reserve) if the free frames come
 * in more runs than the boot-info page can list.
 */
void pool_init(const struct memmap *m, uint64_t reserve)
{
	uint64_t want;
	paddr_t pa;

	states_init(m);
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
			state_fill(pfn(pa), n, S_FREE);
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

/* ---- map, unmap, donate ---- */

/* Is [pa, pa + npages pages) aligned and inside the frames the states cover? */
static int span_arg(paddr_t pa, uint64_t npages)
{
	if (!IS_ALIGNED(pa, MICA_PAGE_SIZE))
		return MICA_EALIGN;
	if (pfn(pa) >= nframes || npages > nframes - pfn(pa))
		return MICA_EFRAME;
	return MICA_OK;
}

/* pool_check of one frame (most calls), kept free of the run's bookkeeping. */
static int check_one(uint64_t f)
{
	unsigned sh;
	const uint64_t *w = state_word(f, &sh), *e;
	unsigned v = (unsigned)(*w >> sh) & 3u;

	if (v == S_NONE)
		return MICA_EFRAME;
	if (v != S_MANY)
		return MICA_OK;
	if ((e = shared_find(f)) == NULL)
		return shared_reserve(1); /* 2 now: the next needs an entry */
	return (*e & COUNT_MASK) >= MICA_MAP_MAX_SHARERS ? MICA_EBUSY : MICA_OK;
}

/* pool_check of a run of frames, a word of states at a time. */
static __attribute__((noinline)) int check_run(uint64_t f, uint64_t n)
{
	uint64_t more = 0;

	while (n) {
		struct piece p;

		piece_of(f, n, &p);
		uint64_t w = *p.w;
		/* Some state NONE (both bits clear): not the pool's. */
		if (~(w | w >> 1) & p.low)
			return MICA_EFRAME;
		/* Some state MANY: its count decides. */
		if (w & w >> 1 & p.low) {
			for (uint64_t i = 0; i < p.k; i++) {
				const uint64_t *e;

				if (state_get(f + i) != S_MANY)
					continue;
				e = shared_find(f + i);
				if (!e)
					more++; /* 2 now: the next needs an entry */
				else if ((*e & COUNT_MASK) >= MICA_MAP_MAX_SHARERS)
					return MICA_EBUSY;
			}
		}
		f += p.k;
		n -= p.k;
	}
	return more ? shared_reserve(more) : MICA_OK;
}

/*
 * May [pa, pa + npages pages) be mapped once more? On success there is
 * room for the counts pool_ref will add; the caller then calls pool_ref,
 * or pool_abort if it does not map after all. Errors: MICA_EALIGN, MICA_EFRAME
 * (a frame outside the pool), MICA_EBUSY (a frame already has
 * MICA_MAP_MAX_SHARERS mappings), MICA_ENOMEM (no reserve frames for the
 * shared counts).
 */
int pool_check(paddr_t pa, uint64_t npages)
{
	int rc = span_arg(pa, npages);

	if (rc != MICA_OK)
		return rc;
	return npages == 1 ? check_one(pfn(pa)) : check_run(pfn(pa), npages);
}

/*
 * pool_check of the one frame at pa, which also notes in *pg where its
 * state is, for pool_ref_page (the map call's path for a page: the state
 * is found once). The same errors as pool_check; pool_abort undoes it as
 * it undoes pool_check.
 */
int pool_check_page(paddr_t pa, struct pool_page *pg)
{
	uint64_t f = pfn(pa);
	const uint64_t *e;

	/* Aligned, and inside the frames the states cover. */
	if (!IS_ALIGNED(pa, MICA_PAGE_SIZE))
		return MICA_EALIGN;
	if (f >= nframes)
		return MICA_EFRAME;
	pg->f = f;
	pg->w = state_word(f, &pg->sh);
	pg->v = (unsigned)(*pg->w >> pg->sh) & 3u;
	/* A pool frame; mapped twice or more, its count decides. */
	if (pg->v == S_NONE)
		return MICA_EFRAME;
	if (pg->v != S_MANY)
		return MICA_OK;
	if ((e = shared_find(f)) == NULL)
		return shared_reserve(1); /* 2 now: the next needs an entry */
	return (*e & COUNT_MASK) >= MICA_MAP_MAX_SHARERS ? MICA_EBUSY : MICA_OK;
}

static void ref_many(uint64_t f);

/* pool_ref of the frame pool_check_page checked (nothing changed its state since). */
void pool_ref_page(const struct pool_page *pg)
{
	mappings++;
	if (pg->v == S_MANY) {
		ref_many(pg->f);
		return;
	}
	/* FREE and ONCE step up by one. */
	mapped += pg->v == S_FREE;
	*pg->w += 1ULL << pg->sh;
}

/* One mapping more of frame f, which is MANY (room reserved by pool_check). */
static void ref_many(uint64_t f)
{
	uint64_t *e;

	if (pending)
		shared_commit();
	e = shared_find(f);
	if (e)
		(*e)++;
	else
		shared_put(f, 3);
}

/* pool_ref of a run of frames, a word of states at a time. */
static __attribute__((noinline)) void ref_run(uint64_t f, uint64_t n)
{
	while (n) {
		struct piece p;

		piece_of(f, n, &p);
		uint64_t w = *p.w;
		uint64_t many = w & w >> 1 & p.low;

		/* FREE (01) and ONCE (10) step up by one: both stay inside their two bits. */
		mapped += popcount(w & ~(w >> 1) & p.low);
		*p.w = w + (p.low & ~many);
		if (many)
			for (uint64_t i = 0; i < p.k; i++)
				if (many >> (p.sh + 2 * i) & 1)
					ref_many(f + i);
		f += p.k;
		n -= p.k;
	}
}

/* Count one more mapping of each frame (checked by pool_check). */
void pool_ref(paddr_t pa, uint64_t npages)
{
	uint64_t f = pfn(pa);
	unsigned sh;

	mappings += npages;
	if (npages != 1) {
		ref_run(f, npages);
		return;
	}
	/* One frame: FREE and ONCE step up by one; MANY is counted apart. */
	uint64_t *w = state_word(f, &sh);
	unsigned v = (unsigned)(*w >> sh) & 3u;

	if (v == S_MANY) {
		ref_many(f);
		return;
	}
	mapped += v == S_FREE;
	*w += 1ULL << sh;
}

/* One mapping less of frame f, which is MANY. */
static void unref_many(uint64_t f)
{
	uint64_t *e = shared_find(f);

	if (!e)
		state_set(f, S_ONCE); /* it had 2 */
	else if ((*e & COUNT_MASK) == 3)
		shared_remove(e); /* 2 left: MANY without an entry */
	else
		(*e)--;
}

/* pool_unref of a run of frames, a word of states at a time. */
static __attribute__((noinline)) void unref_run(uint64_t f, uint64_t n)
{
	while (n) {
		struct piece p;

		piece_of(f, n, &p);
		uint64_t w = *p.w;
		uint64_t many = w & w >> 1 & p.low;

		/* Every state ONCE or MANY (high bit set); else it has no mapping. */
		if (~(w >> 1) & p.low)
			panic("pool: unmapping a frame near 0x%lx, which has no mapping",
			      f << MICA_PAGE_SHIFT);
		/* ONCE (10) steps down to FREE (01); MANY is counted apart. */
		mapped -= popcount(~w & p.low);
		*p.w = w - (p.low & ~many);
		if (many)
			for (uint64_t i = 0; i < p.k; i++)
				if (many >> (p.sh + 2 * i) & 1)
					unref_many(f + i);
		f += p.k;
		n -= p.k;
	}
}

/* Count one mapping less of each frame (each must have one). */
void pool_unref(paddr_t pa, uint64_t npages)
{
	uint64_t f = pfn(pa);
	unsigned sh;

	mappings -= npages;
	if (npages != 1) {
		unref_run(f, npages);
		return;
	}
	/* One frame: ONCE steps down to FREE, MANY without an entry (2) down to ONCE. */
	uint64_t *w = state_word(f, &sh);
	unsigned v = (unsigned)(*w >> sh) & 3u;

	if (v < S_ONCE)
		panic("pool: unmapping frame 0x%lx, which has no mapping", pa);
	if (v == S_MANY && shared_used) {
		unref_many(f);
		return;
	}
	mapped -= v == S_ONCE;
	*w -= 1ULL << sh;
}

/*
 * Give pool frames back to the kernel's reserve. Errors: MICA_EALIGN,
 * MICA_EINVAL (npages 0 or past MICA_MAP_MAX_PAGES), MICA_EFRAME (a frame
 * outside the pool), MICA_EBUSY (a frame is still mapped).
 */
int pool_donate(paddr_t pa, uint64_t npages)
{
	uint64_t f = pfn(pa), n = npages;

	if (npages == 0 || npages > MICA_MAP_MAX_PAGES)
		return MICA_EINVAL;
	int rc = span_arg(pa, npages);
	if (rc != MICA_OK)
		return rc;
	while (n) {
		struct piece p;

		piece_of(f, n, &p);
		uint64_t w = *p.w;
		/* NONE: not the pool's; any other state but FREE: mapped. */
		if (~(w | w >> 1) & p.low)
			return MICA_EFRAME;
		if (w >> 1 & p.low)
			return MICA_EBUSY;
		f += p.k;
		n -= p.k;
	}
	state_fill(pfn(pa), npages, S_NONE);
	frames -= npages;
	(void)frame_free(pa, npages);
	return MICA_OK;
}

/* ---- counts ---- */

/*
 * Bytes of the per-frame structures: directory, states and shared counts
 * (make bench: meta.kernel_bits_per_frame).
 */
uint64_t pool_meta_size(void)
{
	return (nframes >> CHUNK_SHIFT) * sizeof(uint32_t) + nchunks * CHUNK_BYTES +
	       shared_cap * sizeof(uint64_t);
}

/* Entries in the shared counts (frames with 3 mappings or more). */
uint64_t pool_shared(void)
{
	return shared_used;
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
