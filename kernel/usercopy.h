/* The one way the kernel reads or writes user memory. */
#ifndef KERNEL_USERCOPY_H
#define KERNEL_USERCOPY_H

#include "types.h"

/*
 * A translation cache for one operation: the pages a series of copies
 * touches are walked once. It lives on the stack of one kernel operation
 * that changes no page table and does not block while it is in use (an
 * IPC transfer), and dies with it: nothing outside that scope can see a
 * stale translation.
 */
#define USERCOPY_CACHE_SLOTS 8
struct usercopy_cache {
	unsigned valid; /* a bit per slot that holds a translation */
	struct {
		paddr_t root;
		vaddr_t page;  /* user page address */
		uint8_t *kva;  /* the page through the direct map */
		unsigned need; /* the flags it was found to have */
	} slot[USERCOPY_CACHE_SLOTS];
};

void usercopy_cache_init(struct usercopy_cache *c);
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
