/*
 * Sharing and moving memory between processes: a parent maps one of its
 * regions into a child too (the frames are shared and counted, freed when
 * the last sharer unmaps or ends), or moves a region to a child (the
 * kernel's grant: the mappings move, nothing is copied). Both back every
 * page of the region first, so that the two sides see the same frames
 * without the pager tracking which page has which frame. A region of at
 * most MICA_MAP_MAX_PAGES pages, so that a move is one grant, which the
 * kernel does all or nothing.
 */
#include "pager.h"

#define PAGE MICA_PAGE_SIZE

/*
 * The region of s starting at addr and child pid of s, checked for a
 * share or move. Errors: MICA_ENOENT no region starts there, or no such
 * live child; MICA_EINVAL not one of map's regions, or larger than
 * MICA_MAP_MAX_PAGES pages.
 */
static int decode(struct space *s, uint64_t addr, uint64_t pid, struct region **r, struct space **d)
{
	*r = region_find(&s->regions, addr);
	*d = space_by_pid(pid);
	/* A region starts at addr. */
	if (!*r || (*r)->start != addr)
		return MICA_ENOENT;
	/* It is anonymous or shared memory, and small enough. */
	if (((*r)->kind != REGION_ANON && (*r)->kind != REGION_SHARED) ||
	    (*r)->end - (*r)->start > MICA_MAP_MAX_PAGES * PAGE)
		return MICA_EINVAL;
	/* pid is a live child of s. */
	if (!*d || (*d)->parent != s || (*d)->state != SPACE_LIVE)
		return MICA_ENOENT;
	return 0;
}

/* The lowest room for size bytes in d from MICA_PAGER_MAP_BASE (else from the bottom). */
static int place(struct space *d, uint64_t size, uint64_t *at)
{
	if (region_find_gap(&d->regions, size, MICA_PAGER_MAP_BASE, at) == 0)
		return 0;
	return region_find_gap(&d->regions, size, 0, at);
}

/*
 * Map s's region at addr into child pid with rights (no more than the
 * region's, read included); where it lies in the child goes to *at.
 * Errors: decode's, MICA_EINVAL bad rights, MICA_EPERM more rights than
 * the region has, MICA_ENOMEM no frame or no room in the child. On an
 * error the child has nothing new; the pages backed in s stay backed.
 */
int share_region(struct space *s, uint64_t addr, uint64_t pid, uint32_t rights, uint64_t *at)
{
	static uint64_t frames[MICA_MAP_MAX_PAGES];
	struct region *r, *dr;
	struct space *d;
	int e = decode(s, addr, pid, &r, &d);

	if (e < 0)
		return e;
	/* Readable, known bits, and none the region lacks. */
	if (!(rights & REGION_READ) || (rights & ~(REGION_READ | REGION_WRITE | REGION_EXEC)))
		return MICA_EINVAL;
	if (rights & ~r->rights)
		return MICA_EPERM;
	uint64_t n = (r->end - r->start) / PAGE;

	/* Every page's frame: the one mapped (taken out and put back), or a new zeroed one. */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t va = r->start + i * PAGE;
		int64_t u = mica_unmap(s->as, va, 1, &frames[i]);

		if (u == 1) {
			s->resident--; /* counted again by space_map below */
			space_backing(s, r)->pages--;
			/* A page still copy on write (after a fork) becomes this region's own
			 * first. */
			uint64_t own = cow_private(r, frames[i]);

			if (!own) {
				(void)space_map(s, r, va, frames[i], cow_rights(r, frames[i]));
				return MICA_ENOMEM;
			}
			frames[i] = own;
		} else if (u == MICA_ENOENT) {
			if (!(frames[i] = frame_alloc()))
				return MICA_ENOMEM;
		} else {
			return (int)u;
		}
		if ((e = space_map(s, r, va, frames[i], r->rights)) < 0) {
			frame_free(
			    frames[i]); /* its contents are lost: the kernel is out of memory */
			return e;
		}
	}
	r->kind = REGION_SHARED;
	if ((e = place(d, r->end - r->start, at)) < 0 ||
	    (e = space_insert(d, *at, *at + n * PAGE, rights, REGION_SHARED, 0, &dr)) < 0)
		return e == MICA_EEXIST ? MICA_ENOMEM : e;
	for (uint64_t i = 0; i < n; i++) {
		if ((e = frame_ref(frames[i])) == 0 &&
		    (e = space_map(d, dr, *at + i * PAGE, frames[i], rights)) < 0)
			frame_free(frames[i]);
		if (e < 0) {
			space_remove_region(d, dr);
			return e;
		}
	}
	return 0;
}

/*
 * Move s's region at addr to child pid (every page backed first, then
 * granted); where it lies in the child goes to *at. Errors: decode's,
 * MICA_ENOMEM no frame, no room in the child or no kernel memory. On an
 * error s keeps the region.
 */
int give_region(struct space *s, uint64_t addr, uint64_t pid, uint64_t *at)
{
	struct region *r, *dr;
	struct space *d;
	int e = decode(s, addr, pid, &r, &d);

	if (e < 0)
		return e;
	uint64_t n = (r->end - r->start) / PAGE;

	if ((e = space_fill(s, r, r->start, r->end)) < 0)
		return e;
	if ((e = place(d, r->end - r->start, at)) < 0 ||
	    (e = space_insert(d, *at, *at + n * PAGE, r->rights, r->kind, 0, &dr)) < 0)
		return e == MICA_EEXIST ? MICA_ENOMEM : e;
	int64_t g = mica_grant(s->as, r->start, d->as, *at, n);

	if (g == MICA_ENOMEM) {
		pool_feed_kernel();
		g = mica_grant(s->as, r->start, d->as, *at, n);
	}
	if (g < 0) {
		region_remove(&d->regions, *at);
		return (int)g;
	}
	s->resident -= n;
	d->resident += n;
	*space_backing(d, dr) = (struct backing){n, *at, *at + n * PAGE};
	return region_remove(&s->regions, r->start);
}
