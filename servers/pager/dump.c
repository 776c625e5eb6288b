/*
 * pager.dump (idl/pager.idl, docs/MEMDUMP.md): the pager's state for
 * tools that draw it (memview, tools/memmap.py): the pool and its buddy
 * blocks, the processes, each one's regions and which of its pages are
 * backed by which frames. Read-only, so any process may ask; what it shows
 * (addresses and frame numbers of other processes) is what a researcher
 * wants to see, and Mica keeps no secrets from its own tools yet.
 *
 * Each call fills at most one reply (4000 bytes of fixed-size records) and
 * examines a bounded amount of state (DUMP_BLOCK_BUDGET blocks,
 * DUMP_PAGE_BUDGET pages); the reply's cursor says where to go on, so a
 * whole dump costs O(what it reports), plus the pool's allocated blocks for
 * BLOCKS and the backed span of each region for PAGES.
 *
 * The pager keeps no page-to-frame table (the kernel's page tables are
 * it), so PAGES asks the kernel: it takes each backed run out of the
 * process (unmap, which reports the frames) and puts it back at once with
 * the region's rights, as share.c does. The process cannot run in between:
 * the pager's priority is above every process's, and it is one thread.
 */
#include <idl/pager_server.h>

#include "pager.h"

#define PAGE              MICA_PAGE_SIZE
#define DUMP_BLOCK_BUDGET 4096 /* blocks one BLOCKS call looks at */
#define DUMP_PAGE_BUDGET  1024 /* pages one PAGES call looks at */
#define DUMP_PROBE        64   /* pages taken out at once when all are backed */

_Static_assert(sizeof(struct mica_pager_dump_pool) +
                       MICA_BOOTINFO_RANGES * sizeof(struct mica_pager_dump_range) <=
                   PAGER_DUMP_CHUNK_MAX,
               "the pool and every range fit one reply");
_Static_assert(BUDDY_MAX_ORDER + 1 ==
                   sizeof(((struct mica_pager_dump_pool *)0)->free_blocks) / sizeof(uint64_t),
               "a count per buddy order");
_Static_assert(MICA_PAGER_DUMP_NAME == MICA_BOOTINFO_NAME_MAX, "a process name fits");

/* Room for one more record of size n in a reply of *len bytes. */
static bool room(uint32_t len, uint32_t n)
{
	return len + n <= PAGER_DUMP_CHUNK_MAX;
}

static void put(uint8_t *chunk, uint32_t *len, const void *rec, uint32_t n)
{
	mem_copy(chunk + *len, rec, n);
	*len += n;
}

/* POOL: the counts, then the boot-info ranges. Cursor 0 only. */
static int dump_pool(uint64_t cursor, uint8_t *chunk, uint32_t *len)
{
	struct mica_pager_dump_pool p = {.version = MICA_PAGER_DUMP_VERSION,
	                                 .total = buddy_pool_count(&pool),
	                                 .free = buddy_free_count(&pool),
	                                 .donated = pool_donated,
	                                 .span_base = pool.base,
	                                 .span_frames = pool.nframes,
	                                 .largest_order = buddy_largest_free_order(&pool),
	                                 .max_order = BUDDY_MAX_ORDER};

	if (cursor)
		return MICA_ERANGE;
	for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
		p.free_blocks[k] = buddy_free_blocks(&pool, k);
	*len = sizeof(p);
	for (uint32_t i = 0; i < boot->nranges && i < MICA_BOOTINFO_RANGES; i++) {
		struct mica_pager_dump_range g = {boot->range[i].start / PAGE,
		                                  boot->range[i].npages};

		if (!g.count)
			continue;
		put(chunk, len, &g, sizeof(g));
		p.nranges++;
	}
	mem_copy(chunk, &p, sizeof(p));
	return 0;
}

/* The boot-info range holding frame f, else the lowest one above it; NULL if none. */
static const struct mica_bootinfo_range *range_from(uint64_t f)
{
	const struct mica_bootinfo_range *best = 0;

	for (uint32_t i = 0; i < boot->nranges && i < MICA_BOOTINFO_RANGES; i++) {
		const struct mica_bootinfo_range *g = &boot->range[i];
		uint64_t a = g->start / PAGE;

		if (!g->npages || a + g->npages <= f)
			continue;
		if (a <= f)
			return g;
		if (!best || a < best->start / PAGE)
			best = g;
	}
	return best;
}

/*
 * BLOCKS: the free blocks, and the allocated ones above order 0 (what was
 * donated to the kernel), by frame. Cursor: the frame to go on from.
 */
static int dump_blocks(uint64_t cursor, uint64_t *next, uint8_t *chunk, uint32_t *len)
{
	uint64_t f = cursor ? cursor : pool.base;
	const struct mica_bootinfo_range *g;

	if (f < pool.base || f >= pool.base + pool.nframes)
		return MICA_ERANGE;
	for (unsigned budget = DUMP_BLOCK_BUDGET; (g = range_from(f)); budget--) {
		uint64_t start;
		unsigned order;
		bool is_free;

		if (f < g->start / PAGE)
			f = g->start / PAGE;
		if (!budget || !room(*len, sizeof(struct mica_pager_dump_block))) {
			*next = f;
			return 0;
		}
		if (buddy_block(&pool, f, &start, &order, &is_free) < 0) {
			f++; /* not in the pool: the pager's metadata */
			continue;
		}
		/* A block met again past its start (it spans two ranges) was reported. */
		if (start == f && (is_free || order > 0)) {
			struct mica_pager_dump_block b = {start, order, is_free};

			put(chunk, len, &b, sizeof(b));
		}
		f = start + (1ULL << order);
	}
	*next = 0;
	return 0;
}

/* PROCS: every process, live or ended and not waited for, by pid. Cursor: the pid to go on from. */
static int dump_procs(uint64_t cursor, uint64_t *next, uint8_t *chunk, uint32_t *len)
{
	if (cursor >= space_next_pid())
		return MICA_ERANGE;
	for (const struct space *s = space_after(cursor ? cursor - 1 : 0); s;
	     s = space_after(s->pid)) {
		if (!room(*len, sizeof(struct mica_pager_dump_proc))) {
			*next = s->pid;
			return 0;
		}
		struct mica_pager_dump_proc p = {.pid = s->pid,
		                                 .parent = s->parent ? s->parent->pid : 0,
		                                 .resident = s->resident,
		                                 .state = s->state == SPACE_LIVE ? 1 : 2,
		                                 .regions = (uint32_t)region_count(&s->regions)};

		mem_copy(p.name, s->name, sizeof(p.name));
		p.name[sizeof(p.name) - 1] = 0;
		put(chunk, len, &p, sizeof(p));
	}
	*next = 0;
	return 0;
}

/* REGIONS: the regions of s, as pager.regions lists them. Cursor: the index to go on from. */
static int dump_regions(struct space *s, uint64_t cursor, uint64_t *next, uint8_t *chunk,
                        uint32_t *len)
{
	uint64_t i = 0;

	if (cursor && cursor >= region_count(&s->regions))
		return MICA_ERANGE;
	for (struct region *r = region_first(&s->regions); r;
	     r = region_next(&s->regions, r), i++) {
		if (i < cursor)
			continue;
		if (!room(*len, sizeof(struct mica_pager_region))) {
			*next = i;
			return 0;
		}
		struct mica_pager_region e = {.start = r->start,
		                              .end = r->end,
		                              .rights = r->rights,
		                              .kind = r->kind,
		                              .backed = space_backing(s, r)->pages};

		put(chunk, len, &e, sizeof(e));
	}
	*next = 0;
	return 0;
}

/*
 * Put n pages taken out of region r of s back, on frames[0 .. n), with
 * the region's rights (as every fault maps them), less write for a page
 * that is copy on write (cow.c). A page the kernel will
 * not take back (no memory even after feeding its reserve) is lost to s:
 * counted out and its frame freed, and said so; s faults it in again,
 * zeroed.
 */
static void put_back(struct space *s, struct region *r, uint64_t va, const uint64_t *frames,
                     uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		int64_t e = mica_map(s->as, va + i * PAGE, frames[i], 1, cow_rights(r, frames[i]));

		if (e == MICA_ENOMEM) {
			pool_feed_kernel();
			e = mica_map(s->as, va + i * PAGE, frames[i], 1, cow_rights(r, frames[i]));
		}
		if (e < 0) {
			log_str(
			    "pager: dump: a page could not be mapped back, its contents lost\n");
			struct backing *b = space_backing(s, r);

			s->resident--;
			if (!--b->pages)
				b->lo = b->hi = 0;
			frame_free(frames[i]);
		}
	}
}

/* Add page va on frame pa to the reply's runs: the last run grows, or a new one starts. */
static bool add_page(uint8_t *chunk, uint32_t *len, uint64_t va, uint64_t pa)
{
	struct mica_pager_dump_run *last = 0;

	if (*len)
		last = (struct mica_pager_dump_run *)(chunk + *len - sizeof(*last));
	if (last && last->va + last->count * PAGE == va && last->frame + last->count == pa / PAGE) {
		last->count++;
		return true;
	}
	if (!room(*len, sizeof(struct mica_pager_dump_run)))
		return false;
	struct mica_pager_dump_run run = {va, pa / PAGE, 1};

	put(chunk, len, &run, sizeof(run));
	return true;
}

/*
 * PAGES: the backed pages of s as runs of consecutive pages on consecutive
 * frames, by address. Cursor: the address to go on from. Only the span of
 * each region where pages are backed is looked at.
 */
static int dump_pages(struct space *s, uint64_t cursor, uint64_t *next, uint8_t *chunk,
                      uint32_t *len)
{
	static uint64_t frames[DUMP_PROBE];
	uint64_t va = cursor, budget = DUMP_PAGE_BUDGET;

	if (va % PAGE || (va && (va < MICA_USER_BASE || va >= MICA_USER_TOP)))
		return MICA_ERANGE;
	for (struct region *r = region_find_from(&s->regions, va); r;
	     r = region_next(&s->regions, r)) {
		const struct backing *b = space_backing(s, r);
		uint64_t end = b->pages ? b->hi : 0;

		if (va < r->start)
			va = r->start;
		if (b->pages && va < b->lo)
			va = b->lo;
		while (va < end) {
			uint64_t n = (end - va) / PAGE, got = 0;

			if (n > DUMP_PROBE)
				n = DUMP_PROBE;
			if (!budget || !room(*len, sizeof(struct mica_pager_dump_run))) {
				*next = va;
				return 0;
			}
			/* The run whole if it is all backed, else page by page. */
			if (mica_unmap(s->as, va, n, frames) == (int64_t)n) {
				got = n;
			} else {
				n = 1;
				got = mica_unmap(s->as, va, 1, frames) == 1;
			}
			put_back(s, r, va, frames, got);
			for (uint64_t i = 0; i < got; i++) {
				if (!add_page(chunk, len, va + i * PAGE, frames[i])) {
					*next = va + i * PAGE;
					return 0;
				}
			}
			va += n * PAGE;
			budget -= n < budget ? n : budget;
		}
	}
	*next = 0;
	return 0;
}

/* The dump call: the caller must be a running process; the part, pid and cursor are checked. */
int dump_op(void *ctx, uint64_t badge, uint32_t part, uint64_t pid, uint64_t cursor, uint64_t *next,
            uint8_t *chunk, uint32_t *len)
{
	const struct space *c = space_by_pid(badge);
	struct space *s = 0;

	(void)ctx;
	*next = 0;
	*len = 0;
	if (!c || c->state != SPACE_LIVE)
		return MICA_EPERM;
	if (part >= MICA_PAGER_DUMP_PARTS)
		return MICA_EINVAL;
	if (part == MICA_PAGER_DUMP_REGIONS || part == MICA_PAGER_DUMP_PAGES) {
		s = space_by_pid(pid);
		if (!s || s->state != SPACE_LIVE)
			return MICA_ENOENT;
	}
	switch (part) {
	case MICA_PAGER_DUMP_POOL:
		return dump_pool(cursor, chunk, len);
	case MICA_PAGER_DUMP_BLOCKS:
		return dump_blocks(cursor, next, chunk, len);
	case MICA_PAGER_DUMP_PROCS:
		return dump_procs(cursor, next, chunk, len);
	case MICA_PAGER_DUMP_REGIONS:
		return dump_regions(s, cursor, next, chunk, len);
	default:
		return dump_pages(s, cursor, next, chunk, len);
	}
}
