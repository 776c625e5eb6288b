/*
 * Copy on write: a frame mapped read-only in several address spaces,
 * each sharer getting a private copy at its first write (fork.c is the
 * first user; private mappings of other memory can reuse it). Built on
 * the kernel's map and unmap alone: the kernel has no call to change a
 * mapping's rights, so "make read-only" is unmap and map again, and a
 * copy is unmap, copy, map.
 *
 * The state is the frame's count (pool.c, 2 bytes a frame, which the
 * pager had already): in a region that is not REGION_SHARED, a page is
 * mapped writable only while its frame's count is 1. A frame with a
 * count above 1 in such a region is copy on write; a write fault on a
 * present page there copies it (count above 1) or maps it writable
 * again (count back to 1: the other sharers have copied or ended). No
 * table per page and no count of its own: the pager keeps no map from
 * pages to frames, and the kernel's unmap says which frame a page has.
 */
#include "pager.h"

#define PAGE MICA_PAGE_SIZE

/* Count n pages mapped from va in region r of s (as space_map does for one). */
static void count_in(struct space *s, struct region *r, uint64_t va, uint64_t n)
{
	struct backing *b = space_backing(s, r);

	if (!n)
		return;
	if (!b->pages || va < b->lo)
		b->lo = va;
	if (!b->pages || va + n * PAGE > b->hi)
		b->hi = va + n * PAGE;
	b->pages += n;
	s->resident += n;
}

/* Count n pages of region r of s as no longer mapped. */
static void count_out(struct space *s, struct region *r, uint64_t n)
{
	struct backing *b = space_backing(s, r);

	b->pages -= n;
	s->resident -= n;
	if (!b->pages)
		b->lo = b->hi = 0;
}

/* The kernel's map, fed and tried once more when it has no page table left. */
static int64_t map_fed(mica_handle_t as, uint64_t va, uint64_t pa, uint64_t n, uint32_t rights)
{
	int64_t e = mica_map(as, va, pa, n, rights);

	if (e == MICA_ENOMEM) {
		pool_feed_kernel();
		e = mica_map(as, va, pa, n, rights);
	}
	return e;
}

/*
 * Map frames[0 .. n) at va, va + PAGE, ... in as with rights, one call
 * per run of consecutive frames. Returns how many were mapped (n, or
 * fewer with the kernel's error in *err).
 */
static uint64_t map_runs(mica_handle_t as, uint64_t va, const uint64_t *frames, uint64_t n,
                         uint32_t rights, int *err)
{
	uint64_t i = 0;

	while (i < n) {
		uint64_t k = 1;

		while (i + k < n && frames[i + k] == frames[i] + k * PAGE)
			k++;
		int64_t e = map_fed(as, va + i * PAGE, frames[i], k, rights);

		if (e < 0) {
			*err = (int)e;
			return i;
		}
		i += k;
	}
	return n;
}

/*
 * The rights the page on frame pa in region r is mapped with: without write while shared
 * (but in a region shared by design: made by share, or a shared mapping of a memory object,
 * whose frame is the object's cached page).
 */
uint32_t cow_rights(const struct region *r, uint64_t pa)
{
	bool shared =
	    r->kind == REGION_SHARED || (r->kind == REGION_OBJECT && memobj_region_shared(r));

	if (!shared && (r->rights & REGION_WRITE) && frame_shared(pa))
		return r->rights & ~(uint32_t)REGION_WRITE;
	return r->rights;
}

/*
 * Frames the kernel would not map back into s (no page table even after
 * feeding its reserve): the pages are lost to s (it faults them in again,
 * zeroed), counted out and said so, as dump.c does.
 */
static void lost(struct space *s, struct region *r, const uint64_t *frames, uint64_t n)
{
	log_str("pager: copy on write: a page could not be mapped back, its contents lost\n");
	count_out(s, r, n);
	for (uint64_t i = 0; i < n; i++)
		frame_free(frames[i]);
}

/*
 * n pages from va taken out of region r of s (frames[]): put them back
 * read-only (unless r is shared), count each frame once more, and map
 * them at the same addresses in region dr of d, read-only too.
 */
static int share_run(struct space *s, struct region *r, struct space *d, struct region *dr,
                     uint64_t va, const uint64_t *frames, uint64_t n)
{
	uint32_t rights =
	    r->kind == REGION_SHARED ? r->rights : r->rights & ~(uint32_t)REGION_WRITE;
	int e = 0;
	uint64_t m = map_runs(s->as, va, frames, n, rights, &e);

	if (m < n) {
		lost(s, r, frames + m, n - m);
		return e;
	}
	/* One more count each; a count at its maximum refuses the whole run. */
	for (uint64_t i = 0; i < n; i++) {
		if ((e = frame_ref(frames[i])) < 0) {
			while (i--)
				frame_free(frames[i]);
			return e;
		}
	}
	m = map_runs(d->as, va, frames, n, rights, &e);
	count_in(d, dr, va, m);
	for (uint64_t i = m; i < n; i++)
		frame_free(frames[i]);
	return m < n ? e : 0;
}

/*
 * Share every backed page of region r of s with region dr of d (the same
 * range in d, nothing backed in it yet), copy on write: both map each
 * frame without write (a REGION_SHARED region keeps its rights: its
 * frames stay shared, as share made them), and each frame counts one
 * more mapping. Pages not backed in s stay unbacked in both (a fault
 * fills each from the region's backing). Like space_unmap_range, it
 * takes runs of up to 1024 pages whole, and page by page where one has a
 * hole. Returns 0, or an error with d holding what was shared so far
 * (the caller tears d down; s is whole, some pages read-only, which a
 * write fault makes writable again).
 */
int cow_share_region(struct space *s, struct region *r, struct space *d, struct region *dr)
{
	static uint64_t frames[MICA_MAP_MAX_PAGES];
	struct backing *b = space_backing(s, r);
	uint64_t start = b->lo, end = b->hi, left = b->pages;
	int e;

	while (start < end && left) {
		uint64_t n = (end - start) / PAGE;

		if (n > MICA_MAP_MAX_PAGES)
			n = MICA_MAP_MAX_PAGES;
		int64_t u = mica_unmap(s->as, start, n, frames);

		if (u == (int64_t)n) {
			left -= n;
			if ((e = share_run(s, r, d, dr, start, frames, n)) < 0)
				return e;
		} else if (u == MICA_ENOENT) {
			for (uint64_t i = 0; i < n && left; i++) {
				u = mica_unmap(s->as, start + i * PAGE, 1, frames);
				if (u == 1) {
					left--;
					e = share_run(s, r, d, dr, start + i * PAGE, frames, 1);
					if (e < 0)
						return e;
				} else if (u != MICA_ENOENT) {
					return (int)u;
				}
			}
		} else {
			return (int)u;
		}
		start += n * PAGE;
	}
	return 0;
}

/*
 * A write fault of s at the present page va of region r (writable, not
 * shared): the page is copy on write. If its frame is still shared,
 * copy it into a new frame, map that writable and drop this space's
 * count of the old one; if not (every other sharer has copied or ended),
 * map the same frame writable again. Returns 0 (resume) or
 * MICA_PAGER_KILL_NOMEM (no frame for the copy: the page stays as it
 * was). Who: fault.c.
 */
uint64_t cow_fault(struct space *s, struct region *r, uint64_t va)
{
	uint64_t pa, copy;
	int64_t u = mica_unmap(s->as, va, 1, &pa);

	/* Gone meanwhile: the retried access faults again and is served then. */
	if (u == MICA_ENOENT)
		return 0;
	if (u != 1)
		return MICA_PAGER_KILL_NOMEM;
	if (!frame_shared(pa)) {
		if (map_fed(s->as, va, pa, 1, r->rights) < 0) {
			lost(s, r, &pa, 1);
			return MICA_PAGER_KILL_NOMEM;
		}
		return 0;
	}
	if (!(copy = frame_copy(pa))) {
		if (map_fed(s->as, va, pa, 1, cow_rights(r, pa)) < 0)
			lost(s, r, &pa, 1);
		return MICA_PAGER_KILL_NOMEM;
	}
	if (map_fed(s->as, va, copy, 1, r->rights) < 0) {
		frame_free(copy);
		if (map_fed(s->as, va, pa, 1, cow_rights(r, pa)) < 0)
			lost(s, r, &pa, 1);
		return MICA_PAGER_KILL_NOMEM;
	}
	frame_free(pa); /* this space's count of the shared frame */
	return 0;
}

/*
 * Frame pa, just taken out of region r of s: itself, or if it is copy on
 * write (shared, r not REGION_SHARED) a private copy, the shared one's
 * count dropped. 0 if no frame is left for the copy (pa is untouched).
 * Who: share.c, before a region's frames are shared writable.
 */
uint64_t cow_private(const struct region *r, uint64_t pa)
{
	uint64_t copy;

	if (r->kind == REGION_SHARED || !frame_shared(pa))
		return pa;
	if (!(copy = frame_copy(pa)))
		return 0;
	frame_free(pa);
	return copy;
}

/*
 * Write len bytes of data at va in d (one page, in a writable region that
 * is not shared) into d's own copy of the page: a frame shared copy on
 * write is copied first, a page not backed yet is filled from its
 * region's backing. Returns 0, MICA_EINVAL (no such region), MICA_ENOMEM
 * or a kernel error; on an error the page may be gone from d (the caller,
 * fork, tears d down). Who: fork.c, for the child's struct mica_fork_info.
 */
int cow_write(struct space *d, uint64_t va, const void *data, uint64_t len)
{
	struct region *r = region_find(&d->regions, va);
	uint64_t page = va & ~(PAGE - 1), pa, own;
	int64_t u;
	int e;

	/* A writable region, not shared: the bytes are d's alone. */
	if (!r || !(r->rights & REGION_WRITE) || r->kind == REGION_SHARED)
		return MICA_EINVAL;
	u = mica_unmap(d->as, page, 1, &pa);
	if (u == 1) {
		count_out(d, r, 1);
		if (!(own = cow_private(r, pa))) {
			frame_free(pa);
			return MICA_ENOMEM;
		}
		pa = own;
	} else if (u == MICA_ENOENT) {
		if (!(pa = fault_frame(r, page)))
			return MICA_ENOMEM;
	} else {
		return (int)u;
	}
	mem_copy((uint8_t *)PHYS(pa) + (va - page), data, len);
	if ((e = space_map(d, r, page, pa, r->rights)) < 0)
		frame_free(pa);
	return e;
}
