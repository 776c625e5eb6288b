/*
 * Processes' address spaces: the table of processes, and the steps every
 * other file builds on: map one frame, back a range, unmap a range and
 * free its frames, tear a whole address space down.
 */
#include "pager.h"

struct space spaces[SPACES];

#define PAGE MICA_PAGE_SIZE

/* A free slot, with a new generation so that an old pid never names it. Who: spawn. */
struct space *space_alloc(void)
{
	for (unsigned i = 0; i < SPACES; i++) {
		struct space *s = &spaces[i];

		if (s->state != SPACE_FREE)
			continue;
		uint32_t gen = s->gen + 1;

		mem_zero(s, sizeof(*s));
		s->gen = gen;
		s->pid = ((uint64_t)gen << 8) | (i + 1);
		s->as = s->thread = s->ep = MICA_HANDLE_NONE;
		region_set_init(&s->regions, s->nodes, SPACE_REGIONS);
		return s;
	}
	return 0;
}

/* The process (live or zombie) with this pid, which is also its badge; NULL if none. */
struct space *space_by_pid(uint64_t pid)
{
	uint64_t i = (pid & 0xff) - 1;

	/* The index is in the table, the slot in use, the generation the same. */
	if (i >= SPACES || spaces[i].state == SPACE_FREE || spaces[i].pid != pid)
		return 0;
	return &spaces[i];
}

/* Processes whose thread still runs. */
unsigned space_live_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < SPACES; i++)
		n += spaces[i].state == SPACE_LIVE;
	return n;
}

/*
 * Unmap n pages at va, only those that are mapped: try the whole run, and
 * where the kernel says a page is missing (ENOENT), split it in halves.
 * So a sparse run costs about (resident pages) x log(n) calls, a full one
 * one call per 1024 pages.
 */
static int unmap_run(struct space *s, uint64_t va, uint64_t n)
{
	static uint64_t frames[MICA_MAP_MAX_PAGES];

	while (n > MICA_MAP_MAX_PAGES) {
		int r = unmap_run(s, va, MICA_MAP_MAX_PAGES);

		if (r < 0)
			return r;
		va += MICA_MAP_MAX_PAGES * PAGE;
		n -= MICA_MAP_MAX_PAGES;
	}
	int64_t r = mica_unmap(s->as, va, n, frames);

	if (r == (int64_t)n) {
		for (uint64_t i = 0; i < n; i++)
			frame_free(frames[i]);
		s->resident -= n;
		return 0;
	}
	if (r != MICA_ENOENT)
		return (int)r;
	if (n == 1)
		return 0;
	int e = unmap_run(s, va, n / 2);

	return e < 0 ? e : unmap_run(s, va + n / 2 * PAGE, n - n / 2);
}

/* Unmap the mapped pages of [start, end) (page aligned) and free their frames. */
int space_unmap_range(struct space *s, uint64_t start, uint64_t end)
{
	return end > start ? unmap_run(s, start, (end - start) / PAGE) : 0;
}

/* Unmap region r and drop it from s. */
int space_remove_region(struct space *s, struct region *r)
{
	int e = space_unmap_range(s, r->start, r->end);

	if (e < 0)
		return e;
	return region_remove(&s->regions, r->start);
}

/*
 * Map the frame at pa at va in s with rights. If the kernel's reserve has
 * no page table left (MICA_ENOMEM), feed it pool frames and try once more.
 */
int space_map(struct space *s, uint64_t va, uint64_t pa, uint32_t rights)
{
	int64_t r = mica_map(s->as, va, pa, 1, rights);

	if (r == MICA_ENOMEM) {
		pool_feed_kernel();
		r = mica_map(s->as, va, pa, 1, rights);
	}
	if (r == 0)
		s->resident++;
	return (int)r;
}

/*
 * Back every page of [start, end) in region r now, with zeroed or image
 * frames; pages already mapped stay as they are. MICA_ENOMEM when the pool
 * is empty (the pages backed so far stay: the region owns them).
 */
int space_fill(struct space *s, struct region *r, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end; va += PAGE) {
		uint64_t pa = frame_alloc();

		if (!pa)
			return MICA_ENOMEM;
		fault_fill(s, r, va, pa);
		int e = space_map(s, va, pa, r->rights);

		if (e < 0) {
			frame_free(pa);
			if (e != MICA_EEXIST)
				return e;
		}
	}
	return 0;
}

/*
 * Destroy s's address space (ending its thread if it still runs), free
 * every frame the kernel reports, close the handles, forget the regions.
 */
void space_teardown(struct space *s)
{
	static uint64_t frames[MICA_MAP_MAX_PAGES];
	int64_t n;

	if (s->as != MICA_HANDLE_NONE) {
		do {
			n = mica_aspace_destroy(s->as, frames, MICA_MAP_MAX_PAGES);
			for (int64_t i = 0; i < n; i++)
				frame_free(frames[i]);
		} while (n == MICA_MAP_MAX_PAGES);
		mica_handle_close(s->as);
	}
	if (s->thread != MICA_HANDLE_NONE)
		mica_handle_close(s->thread);
	if (s->ep != MICA_HANDLE_NONE)
		mica_handle_close(s->ep);
	s->as = s->thread = s->ep = MICA_HANDLE_NONE;
	s->resident = 0;
	region_set_init(&s->regions, s->nodes, SPACE_REGIONS);
}
