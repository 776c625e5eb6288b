/* The one way the kernel reads or writes user memory. */
#ifndef KERNEL_USERCOPY_H
#define KERNEL_USERCOPY_H

#include "pt.h"
#include "types.h"

/*
 * A translation cache: the user pages a series of copies touches are
 * walked once. Either one operation's, on its stack (usercopy_cache_init),
 * or a thread's, kept across its calls (struct thread's ipc_tlb): a kept
 * cache is made current with usercopy_cache_sync at the start of each
 * operation, which forgets everything if any mapping was removed or lost
 * rights since (pt_generation, pt.h), so a translation is never used after
 * the page went or changed. Within one operation no page table changes.
 * Slots are keyed by address space (root) and page.
 */
#define USERCOPY_CACHE_SLOTS 8
struct usercopy_cache {
	unsigned valid; /* a bit per slot that holds a translation */
	uint64_t gen;   /* pt_generation when the slots were filled */
	struct {
		paddr_t root;
		vaddr_t page;  /* user page address */
		uint8_t *kva;  /* the page through the direct map */
		unsigned need; /* the flags it was found to have */
	} slot[USERCOPY_CACHE_SLOTS];
};

/*
 * A kept translation of one user page, for a hot path that reaches the
 * same page call after call (a thread's IPC descriptor, send buffer,
 * receive buffer: struct thread's ipc_view). Valid while pt_generation
 * has not moved since it was filled; a hit costs a few compares, no walk.
 */
struct usercopy_view {
	uint64_t gen;  /* pt_generation when filled (0: never: the generation starts past it) */
	vaddr_t page;  /* user page address */
	uint8_t *kva;  /* the page through the direct map */
	bool writable; /* found user-writable (else user-readable only) */
};

void *usercopy_view_fill(struct usercopy_view *v, struct usercopy_cache *c, paddr_t root,
                         vaddr_t uva, size_t n, bool write);

/*
 * The kernel address of user range [uva, uva + n) of the address space
 * rooted at `root`, through view v (which must only ever be used with that
 * root), if the range lies within one page mapped user-readable (and
 * writable if `write`); NULL if not so. A miss fills v through c.
 */
static inline void *usercopy_view_ptr(struct usercopy_view *v, struct usercopy_cache *c,
                                      paddr_t root, vaddr_t uva, size_t n, bool write)
{
	vaddr_t off = uva & (MICA_PAGE_SIZE - 1);

	if (v->gen == pt_generation && v->page == uva - off && n && off + n <= MICA_PAGE_SIZE &&
	    (v->writable || !write))
		return v->kva + off;
	return usercopy_view_fill(v, c, root, uva, n, write);
}

void usercopy_cache_init(struct usercopy_cache *c);

/*
 * Make a cache kept across operations (a thread's) current: empty it if a
 * mapping was removed or lost rights anywhere since it was filled. Call at
 * the start of each operation that uses it.
 */
static inline void usercopy_cache_sync(struct usercopy_cache *c)
{
	if (c->gen != pt_generation)
		usercopy_cache_init(c);
}

void *usercopy_ptr_cached(struct usercopy_cache *c, paddr_t root, vaddr_t uva, size_t n,
                          bool write);
int usercopy_from(void *dst, vaddr_t usrc, size_t n);
int usercopy_to(vaddr_t udst, const void *src, size_t n);
int usercopy_from_root(paddr_t root, void *dst, vaddr_t usrc, size_t n);
int usercopy_to_root(paddr_t root, vaddr_t udst, const void *src, size_t n);
int usercopy_check(paddr_t root, vaddr_t uva, size_t n, bool write);
int usercopy_from_cached(struct usercopy_cache *c, paddr_t root, void *dst, vaddr_t usrc, size_t n);
int usercopy_to_cached(struct usercopy_cache *c, paddr_t root, vaddr_t udst, const void *src,
                       size_t n);
int usercopy_check_cached(struct usercopy_cache *c, paddr_t root, vaddr_t uva, size_t n,
                          bool write);
int usercopy_between(struct usercopy_cache *c, paddr_t droot, vaddr_t dst, paddr_t sroot,
                     vaddr_t src, size_t n);

#endif /* KERNEL_USERCOPY_H */
