/*
 * Kernel object caches: each object type gets a cache of fixed-size
 * objects carved from slabs of reserve frames (frame.c). Sizes are fixed
 * by type; a cache keeps no spare slab, so a slab's frames go back to the
 * reserve as soon as its last object is freed and the reserve counts stay
 * exact. No policy: nothing is ever grown, shrunk or reclaimed behind the
 * callers' backs.
 */
#ifndef KERNEL_SLAB_H
#define KERNEL_SLAB_H

#include <mica/layout.h>
#include "types.h"

/*
 * A slab's header, at the end of the slab (only in caches with more than
 * one object per slab). Free objects are chained through their first word.
 */
struct slab {
	struct slab *next, *prev; /* in the cache's list of slabs with a free object */
	struct slab_cache *cache; /* owner, checked on free */
	void *free;               /* freed objects, chained */
	uint32_t used;            /* objects handed out */
	uint32_t carved;          /* objects ever handed out: the rest is untouched */
};

struct slab_cache {
	/* Fixed by type (SLAB_CACHE). */
	const char *name;
	uint32_t size;     /* bytes per object: a multiple of SLAB_ALIGN */
	uint32_t frames;   /* frames per slab, a power of two; a slab is aligned to its size */
	uint32_t per_slab; /* objects per slab; 1: the slab is the object, no header */
	/* Changed by every allocation and free. */
	struct slab *partial; /* slabs with at least one free object */
	uint64_t objects;     /* objects handed out and not freed */
	uint64_t slabs;       /* slabs held */
};

/* Every object is aligned to this (and single-object slabs to their size). */
#define SLAB_ALIGN 16

#define SLAB_BYTES_(nf)   ((uint64_t)(nf)*MICA_PAGE_SIZE)
#define SLAB_SIZE_(sz)    ALIGN_UP((uint64_t)(sz), SLAB_ALIGN)
#define SLAB_ROOM_(nf)    (SLAB_BYTES_(nf) - sizeof(struct slab))
#define SLAB_PER_(sz, nf) (SLAB_SIZE_(sz) > SLAB_ROOM_(nf) ? 1 : SLAB_ROOM_(nf) / SLAB_SIZE_(sz))
/*
 * A cache of objects of `sz` bytes in slabs of `nf` frames, as a static
 * initializer. An object larger than what a slab has besides its header
 * fills a slab of its own, with no header (sz must be at most nf frames).
 */
#define SLAB_CACHE(cname, sz, nf)                                                                  \
	{                                                                                          \
		.name = (cname), .size = (uint32_t)SLAB_SIZE_(sz), .frames = (nf),                 \
		.per_slab = (uint32_t)SLAB_PER_(sz, nf),                                           \
	}

void *slab_alloc(struct slab_cache *c);
void slab_free(struct slab_cache *c, void *obj);
uint64_t slab_bytes(const struct slab_cache *c);

#endif /* KERNEL_SLAB_H */
