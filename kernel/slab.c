/*
 * Kernel object caches (slab.h). A slab is `frames` naturally aligned
 * reserve frames: a cache with one object per slab hands out the frames
 * themselves; otherwise the objects are carved from the start of the slab
 * and its header sits at the end, so the header of any object's slab is
 * found by aligning the object's address down. Objects are carved one at
 * a time as they are first needed (a new slab costs no free-list build),
 * and freed ones are chained through their first word. A slab whose last
 * object is freed goes straight back to the frame allocator.
 */
#include <mica/error.h>
#include "frame.h"
#include "panic.h"
#include "phys.h"
#include "slab.h"

static uint64_t slab_bytes_of(const struct slab_cache *c)
{
	return (uint64_t)c->frames * MICA_PAGE_SIZE;
}

/* The header of the slab holding obj (caches with several objects per slab). */
static struct slab *slab_of(const struct slab_cache *c, const void *obj)
{
	uint64_t bytes = slab_bytes_of(c);
	uintptr_t base = ALIGN_DOWN((uintptr_t)obj, bytes);

	return (struct slab *)(base + bytes - sizeof(struct slab));
}

static uint8_t *slab_base(const struct slab_cache *c, struct slab *s)
{
	return (uint8_t *)s + sizeof(struct slab) - slab_bytes_of(c);
}

static void list_add(struct slab_cache *c, struct slab *s)
{
	s->prev = NULL;
	s->next = c->partial;
	if (c->partial)
		c->partial->prev = s;
	c->partial = s;
}

static void list_remove(struct slab_cache *c, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->partial = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

/* A fresh slab of c's frames, naturally aligned; NULL when the reserve has none. */
static void *slab_frames(struct slab_cache *c)
{
	paddr_t pa;

	if (c->size > slab_bytes_of(c) || c->per_slab == 0)
		panic("slab: cache %s: %u-byte objects in %u-frame slabs", c->name, c->size,
		      c->frames);
	if ((c->frames == 1 ? frame_alloc(&pa) : frame_alloc_run(c->frames, c->frames, &pa)) !=
	    MICA_OK)
		return NULL;
	c->slabs++;
	return phys_to_virt(pa);
}

/*
 * An object of c's size, not zeroed; NULL when the reserve has no frames
 * for a new slab (the caller reports MICA_ENOMEM). Objects are aligned to
 * SLAB_ALIGN, and single-object slabs to their slab's size.
 */
void *slab_alloc(struct slab_cache *c)
{
	struct slab *s = c->partial;
	void *obj;

	if (c->per_slab == 1) {
		obj = slab_frames(c);
		if (obj)
			c->objects++;
		return obj;
	}
	if (!s) {
		uint8_t *base = slab_frames(c);

		if (!base)
			return NULL;
		s = (struct slab *)(base + slab_bytes_of(c) - sizeof(struct slab));
		s->cache = c;
		s->free = NULL;
		s->used = s->carved = 0;
		list_add(c, s);
	}
	if (s->free) {
		obj = s->free;
		s->free = *(void **)obj;
	} else {
		obj = slab_base(c, s) + (uint64_t)s->carved * c->size;
		s->carved++;
	}
	if (++s->used == c->per_slab)
		list_remove(c, s); /* full */
	c->objects++;
	return obj;
}

/* Free obj, which slab_alloc(c) returned; its slab's frames go back with its last object. */
void slab_free(struct slab_cache *c, void *obj)
{
	if (c->per_slab == 1) {
		if (!IS_ALIGNED((uintptr_t)obj, slab_bytes_of(c)))
			panic("slab: cache %s: free of %p, not an object", c->name, obj);
		(void)frame_free(virt_to_phys(obj), c->frames);
		c->objects--;
		c->slabs--;
		return;
	}
	struct slab *s = slab_of(c, obj);
	uint64_t off = (uint64_t)((uint8_t *)obj - slab_base(c, s));

	/* Ours, an object's start, handed out. */
	if (s->cache != c || off % c->size != 0 || off / c->size >= s->carved || s->used == 0)
		panic("slab: cache %s: free of %p, not an object in use", c->name, obj);
	if (s->used-- == c->per_slab)
		list_add(c, s); /* was full */
	c->objects--;
	if (s->used == 0) {
		list_remove(c, s);
		s->cache = NULL; /* a stale free into the frame panics while it lies unused */
		(void)frame_free(virt_to_phys(slab_base(c, s)), c->frames);
		c->slabs--;
		return;
	}
	*(void **)obj = s->free;
	s->free = obj;
}

/* Bytes of reserve c holds now (its slabs, headers and free objects included). */
uint64_t slab_bytes(const struct slab_cache *c)
{
	return c->slabs * slab_bytes_of(c);
}
