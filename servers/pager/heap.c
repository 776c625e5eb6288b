/*
 * A process's heap (brk: one region from the end of its image, moved up
 * and down) and its anonymous mappings (map and unmap of whole regions).
 * Both are backed lazily by faults; map can back them at once. Growing
 * either by more pages than the pool has free fails with MICA_ENOMEM (a
 * hint, not a reservation: a fault may still find the pool empty).
 */
#include "pager.h"

#define PAGE       MICA_PAGE_SIZE
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

/*
 * Set s's break to addr (0: only report it); the break now goes to *now.
 * Errors (nothing changes): MICA_EINVAL below the heap's start,
 * MICA_ENOMEM past MICA_PAGER_HEAP_LIMIT, into another region, or by more
 * pages than are free; MICA_ELIMIT by more pages than the memory limits on
 * s and its ancestors leave (a hint too: faults enforce them). Shrinking unmaps the pages past the
 * new break and frees their frames.
 */
int heap_brk(struct space *s, uint64_t addr, uint64_t *now)
{
	uint64_t old_end = PAGE_UP(s->brk), new_end;
	int e = 0;

	if (addr == 0) {
		*now = s->brk;
		return 0;
	}
	/* Inside [heap_start, heap_start + limit]. */
	if (addr < s->heap_start)
		return MICA_EINVAL;
	if (addr - s->heap_start > MICA_PAGER_HEAP_LIMIT)
		return MICA_ENOMEM;
	new_end = PAGE_UP(addr);
	if (new_end > old_end) {
		/* The pool could back the growth. */
		if ((new_end - old_end) / PAGE > buddy_free_count(&pool))
			return MICA_ENOMEM;
		/* And the limits on s and its ancestors leave room for it (limit.c). */
		if ((e = limit_mem_check(s, (new_end - old_end) / PAGE)) < 0)
			return e;
		if (old_end == s->heap_start)
			e = space_insert(s, s->heap_start, new_end, REGION_READ | REGION_WRITE,
			                 REGION_HEAP, 0, 0);
		else
			e = region_resize(&s->regions, s->heap_start, new_end);
		if (e < 0)
			return e == MICA_EEXIST || e == MICA_ERANGE ? MICA_ENOMEM : e;
	} else if (new_end < old_end) {
		struct region *heap = region_find(&s->regions, s->heap_start);

		if ((e = space_unmap_range(s, heap, new_end, old_end)) < 0)
			return e;
		if (new_end == s->heap_start)
			e = region_remove(&s->regions, s->heap_start);
		else
			e = region_resize(&s->regions, s->heap_start, new_end);
		if (e < 0)
			return e;
	}
	s->brk = addr;
	*now = addr;
	return 0;
}

/*
 * Map npages of zeroed memory with rights into s: at addr with
 * MICA_PAGER_MAP_FIXED, else in the lowest gap at or above addr (or
 * MICA_PAGER_MAP_BASE), wrapping to the bottom; backed now with
 * MICA_PAGER_MAP_FILL. Where goes to *at. Errors: MICA_EINVAL (no pages,
 * unknown flags, no rights), the region set's (MICA_EALIGN, MICA_ERANGE,
 * MICA_EPERM write with execute, MICA_EEXIST), MICA_ENOMEM (no room, no
 * free frames, too many regions), MICA_ELIMIT (more pages than the memory
 * limits on s and its ancestors leave).
 */
int anon_map(struct space *s, uint64_t addr, uint64_t npages, uint32_t rights, uint32_t flags,
             uint64_t *at)
{
	struct region *r;
	int e;

	/* A size the user half can hold, known flags, some rights. */
	if (!npages || npages > (MICA_USER_TOP - MICA_USER_BASE) / PAGE ||
	    (flags & ~(MICA_PAGER_MAP_FIXED | MICA_PAGER_MAP_FILL)) || !rights)
		return MICA_EINVAL;
	uint64_t size = npages * PAGE;

	/* Pages to back it, if asked to. */
	if ((flags & MICA_PAGER_MAP_FILL) && npages > buddy_free_count(&pool))
		return MICA_ENOMEM;
	/* Within the limits on s and its ancestors, backed now or not, its record too (limit.c). */
	uint64_t regions = region_count(&s->regions);

	if ((e = limit_mem_check(s, npages + limit_region_pages(regions + 1) -
	                                limit_region_pages(regions))) < 0)
		return e;
	if (!(flags & MICA_PAGER_MAP_FIXED)) {
		uint64_t hint = addr ? addr : MICA_PAGER_MAP_BASE;

		if (region_find_gap(&s->regions, size, hint, &addr) < 0 &&
		    (e = region_find_gap(&s->regions, size, 0, &addr)) < 0)
			return e;
	}
	/* A fixed range must not wrap past the top (the region set would call it empty). */
	if ((flags & MICA_PAGER_MAP_FIXED) && !(addr % PAGE) && addr > MICA_USER_TOP - size)
		return MICA_ERANGE;
	if ((e = space_insert(s, addr, addr + size, rights, REGION_ANON, 0, &r)) < 0)
		return e;
	if ((flags & MICA_PAGER_MAP_FILL) && (e = space_fill(s, r, r->start, r->end)) < 0) {
		space_remove_region(s, r);
		return e;
	}
	*at = addr;
	return 0;
}

/*
 * Unmap the region map made at addr, freeing its frames. Errors:
 * MICA_ENOENT no region starts there, MICA_EINVAL one that map did not make.
 */
int anon_unmap(struct space *s, uint64_t addr)
{
	struct region *r = region_find(&s->regions, addr);

	if (!r || r->start != addr)
		return MICA_ENOENT;
	if (r->kind != REGION_ANON && r->kind != REGION_SHARED)
		return MICA_EINVAL;
	return space_remove_region(s, r);
}
