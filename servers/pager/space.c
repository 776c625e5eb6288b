/*
 * Processes' address spaces: the table of processes, and the steps every
 * other file builds on: map one frame, back a range, unmap a range and
 * free its frames, tear a whole address space down.
 */
#include "pager.h"

/*
 * Every process record, from a slab: in the pid index (an AVL tree, so a
 * badge finds its process in O(log n)) and in a list for the walks over
 * all of them (children, subtrees, the end of a run).
 */
static struct idtree pids;
struct space *space_first;
static struct space *space_last;
static uint64_t next_pid = 1;
static struct slab_cache spaces_cache = {.size = sizeof(struct space)};
static struct slab_cache regions_cache = {.size = sizeof(struct space_region)};

#define PAGE MICA_PAGE_SIZE

/* A region node for a set (region_set_init_alloc): the node and its backing. */
static struct region *region_node_alloc(void *ctx)
{
	struct space_region *n = slab_alloc(&regions_cache);

	(void)ctx;
	return n ? &n->r : 0;
}

static void region_node_release(void *ctx, struct region *r)
{
	(void)ctx;
	slab_free(&regions_cache, (struct space_region *)(uintptr_t)r);
}

/* A new record with a pid never used before, in the index; NULL if no frame. Who: spawn. */
struct space *space_alloc(void)
{
	struct space *s;

	/* A pid that fits below the badge's tid bits (never reached: 2^40 spawns). */
	if (next_pid > SPACE_PID_MASK || !(s = slab_alloc(&spaces_cache)))
		return 0;
	s->pid = s->node.key = next_pid++;
	s->as = s->ep = MICA_HANDLE_NONE;
	region_set_init_alloc(&s->regions, region_node_alloc, region_node_release, 0);
	idtree_init(&s->threads);
	s->next_tid = 1;
	(void)idtree_insert(&pids, &s->node); /* a fresh pid: never there */
	s->prev = space_last;
	if (space_last)
		space_last->next = s;
	else
		space_first = s;
	space_last = s;
	return s;
}

/* Forget s: out of the index and the list, its record back to the slab. Who: process.c. */
void space_free(struct space *s)
{
	(void)idtree_remove(&pids, s->pid);
	if (s->next)
		s->next->prev = s->prev;
	else
		space_last = s->prev;
	if (s->prev)
		s->prev->next = s->next;
	else
		space_first = s->next;
	slab_free(&spaces_cache, s);
}

/* The process (live or zombie) with this pid, which is also its badge; NULL if none. */
struct space *space_by_pid(uint64_t pid)
{
	struct idnode *n = idtree_find(&pids, pid);

	return n ? (struct space *)(uintptr_t)n : 0;
}

/* The pid the next process will get: every pid below it was given once (pids are never reused). */
uint64_t space_next_pid(void)
{
	return next_pid;
}

/* The process with the lowest pid above pid (0: the first), in pid order; NULL after the last. */
struct space *space_after(uint64_t pid)
{
	struct idnode *n = idtree_next(&pids, pid);

	return n ? (struct space *)(uintptr_t)n : 0;
}

/* Processes whose first thread still runs. */
unsigned space_live_count(void)
{
	unsigned n = 0;

	for (struct space *s = space_first; s; s = s->next)
		n += s->state == SPACE_LIVE;
	return n;
}

/* Frames holding process and region records now. */
uint64_t space_meta_frames(void)
{
	return spaces_cache.slabs + regions_cache.slabs;
}

/* Add a region to s with nothing backed in it yet. Errors: region_insert's. */
int space_insert(struct space *s, uint64_t start, uint64_t end, uint32_t rights,
                 enum region_kind kind, void *data, struct region **out)
{
	struct region *r;
	int e = region_insert(&s->regions, start, end, rights, kind, data, &r);

	if (e < 0)
		return e;
	*space_backing(s, r) = (struct backing){0};
	if (out)
		*out = r;
	return 0;
}

/* The kernel unmapped n pages of region r: free their frames, count them out. */
static void unmapped(struct space *s, struct region *r, const uint64_t *frames, uint64_t n)
{
	struct backing *b = space_backing(s, r);

	for (uint64_t i = 0; i < n; i++)
		frame_free(frames[i]);
	s->resident -= n;
	b->pages -= n;
	if (!b->pages)
		b->lo = b->hi = 0;
}

/*
 * Unmap the mapped pages of [start, end) in region r (page aligned) and
 * free their frames. Only the span where r has pages backed is looked at,
 * and the walk stops once none is left. Each run of up to 1024 pages is
 * asked for whole first (one call when it is fully backed); if the kernel
 * says a page of it is missing (ENOENT), its pages are taken one by one.
 * So a dense range costs a call per 1024 pages, a sparse one a call per
 * page of the backed span.
 */
int space_unmap_range(struct space *s, struct region *r, uint64_t start, uint64_t end)
{
	static uint64_t frames[MICA_MAP_MAX_PAGES];
	struct backing *b = space_backing(s, r);

	if (start < b->lo)
		start = b->lo;
	if (end > b->hi)
		end = b->hi;
	while (start < end && b->pages) {
		uint64_t n = (end - start) / PAGE;

		if (n > MICA_MAP_MAX_PAGES)
			n = MICA_MAP_MAX_PAGES;
		int64_t u = mica_unmap(s->as, start, n, frames);

		if (u == (int64_t)n) {
			unmapped(s, r, frames, n);
		} else if (u == MICA_ENOENT) {
			for (uint64_t i = 0; i < n && b->pages; i++) {
				u = mica_unmap(s->as, start + i * PAGE, 1, frames);
				if (u == 1)
					unmapped(s, r, frames, 1);
				else if (u != MICA_ENOENT)
					return (int)u;
			}
		} else {
			return (int)u;
		}
		start += n * PAGE;
	}
	return 0;
}

/* Unmap region r and drop it from s. */
int space_remove_region(struct space *s, struct region *r)
{
	int e = space_unmap_range(s, r, r->start, r->end);

	if (e < 0)
		return e;
	return region_remove(&s->regions, r->start);
}

/*
 * Map the frame at pa at va (in region r) in s with rights, and count it
 * backed. If the kernel's reserve has no page table left (MICA_ENOMEM),
 * feed it pool frames and try once more.
 */
int space_map(struct space *s, struct region *r, uint64_t va, uint64_t pa, uint32_t rights)
{
	struct backing *b = space_backing(s, r);

	int64_t e = mica_map(s->as, va, pa, 1, rights);

	if (e == MICA_ENOMEM) {
		pool_feed_kernel();
		e = mica_map(s->as, va, pa, 1, rights);
	}
	if (e == 0) {
		if (!b->pages || va < b->lo)
			b->lo = va;
		if (!b->pages || va + PAGE > b->hi)
			b->hi = va + PAGE;
		b->pages++;
		s->resident++;
	}
	return (int)e;
}

/*
 * Back every page of [start, end) in region r now, with zeroed or image
 * frames; pages already mapped stay as they are. MICA_ENOMEM when the pool
 * is empty (the pages backed so far stay: the region owns them).
 */
int space_fill(struct space *s, struct region *r, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end; va += PAGE) {
		uint64_t pa = fault_frame(r, va);

		if (!pa)
			return MICA_ENOMEM;
		int e = space_map(s, r, va, pa, r->rights);

		if (e < 0) {
			frame_free(pa);
			if (e != MICA_EEXIST)
				return e;
		}
	}
	return 0;
}

/*
 * Destroy s's address space (ending every thread still in it), free
 * every frame the kernel reports, close the handles, forget the regions.
 */
void space_teardown(struct space *s)
{
	static uint64_t frames[MICA_MAP_MAX_PAGES];
	int64_t n;

	memobj_space_gone(s); /* its object mappings, and objects it served */
	if (s->as != MICA_HANDLE_NONE) {
		do {
			n = mica_aspace_destroy(s->as, frames, MICA_MAP_MAX_PAGES);
			for (int64_t i = 0; i < n; i++)
				frame_free(frames[i]);
		} while (n == MICA_MAP_MAX_PAGES);
		mica_handle_close(s->as);
	}
	if (s->ep != MICA_HANDLE_NONE)
		mica_handle_close(s->ep);
	s->as = s->ep = MICA_HANDLE_NONE;
	s->resident = 0;
	/* The region records back to the slab (their frames went above). */
	for (struct region *r = region_first(&s->regions); r; r = region_first(&s->regions))
		(void)region_remove(&s->regions, r->start);
	thread_forget_all(s);
}
