/*
 * The pager's own memory for its records (processes, regions, threads):
 * caches of fixed-size objects in slabs of one pool frame each, seen
 * through the physmap. A slab whose last object is freed goes back to the
 * pool at once, so the pool's free count is the same again once every
 * process has ended (the tests check it), and nothing caps how many
 * records there are but the pool.
 */
#include "pager.h"

#define PAGE MICA_PAGE_SIZE

/* A slab: this header at the start of its frame, then the objects. */
struct slab {
	struct slab *next, *prev; /* in its cache's list of slabs with a free object */
	void *free;               /* free objects, linked through their first word */
	uint32_t used;            /* objects handed out */
	uint32_t pad;
};

/* The slab holding object p. */
static struct slab *slab_of(void *p)
{
	return (struct slab *)((uintptr_t)p & ~(uintptr_t)(PAGE - 1));
}

static void unlink(struct slab_cache *c, struct slab *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		c->partial = b->next;
	if (b->next)
		b->next->prev = b->prev;
	b->next = b->prev = 0;
}

/* A zeroed object of c's size, or NULL when the pool is empty. Who: the pager's files. */
void *slab_alloc(struct slab_cache *c)
{
	struct slab *b = c->partial;

	if (!b) {
		uint64_t pa = frame_alloc();
		uint64_t size = (c->size + 15) & ~15ULL;

		if (!pa)
			return 0;
		b = PHYS(pa);
		/* Every object after the header on the free list, lowest first. */
		uint8_t *first = (uint8_t *)b + ((sizeof(*b) + 15) & ~15ULL);
		void **link = &b->free;

		for (uint8_t *o = first; o + size <= (uint8_t *)b + PAGE; o += size) {
			*link = o;
			link = (void **)o;
		}
		*link = 0;
		c->partial = b;
		c->slabs++;
	}
	void *p = b->free;

	b->free = *(void **)p;
	b->used++;
	if (!b->free)
		unlink(c, b);
	mem_zero(p, (c->size + 7) & ~7ULL);
	c->objects++;
	return p;
}

/* Give p (from slab_alloc(c)) back; an emptied slab's frame goes back to the pool. */
void slab_free(struct slab_cache *c, void *p)
{
	struct slab *b = slab_of(p);

	if (!b->free) { /* it was full: it has room again */
		b->prev = 0;
		b->next = c->partial;
		if (c->partial)
			c->partial->prev = b;
		c->partial = b;
	}
	*(void **)p = b->free;
	b->free = p;
	b->used--;
	c->objects--;
	if (!b->used) {
		unlink(c, b);
		c->slabs--;
		frame_free((uint64_t)(uintptr_t)b - PHYSMAP_BASE);
	}
}
