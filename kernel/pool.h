/*
 * The user pool: the usable frames the kernel hands to the pager at boot.
 * The kernel keeps the rest (its reserve: objects and page tables, from the
 * frame bitmap). For each frame it keeps two bits of state (not the pool's,
 * free, mapped once, mapped more) and, for frames mapped 3 times or more,
 * an exact count in a small hash table, so it can refuse to map a frame
 * that is not the pool's and to take back (donate) one that is still mapped.
 */
#ifndef KERNEL_POOL_H
#define KERNEL_POOL_H

#include <mica/bootinfo.h>
#include "memmap.h"
#include "types.h"

void pool_init(const struct memmap *m, uint64_t reserve);
int pool_take(uint64_t n, paddr_t *pa);
int pool_check(paddr_t pa, uint64_t npages);
void pool_ref(paddr_t pa, uint64_t npages);

/* Where a frame's state is, between pool_check_page and pool_ref_page. */
struct pool_page {
	uint64_t *w; /* the word holding its two bits */
	uint64_t f;  /* the frame number */
	unsigned sh; /* their shift in *w */
	unsigned v;  /* the state pool_check_page read */
};
int pool_check_page(paddr_t pa, struct pool_page *pg);
void pool_ref_page(const struct pool_page *pg);
void pool_abort(void);
void pool_unref(paddr_t pa, uint64_t npages);
int pool_donate(paddr_t pa, uint64_t npages);
uint64_t pool_total(void);
uint64_t pool_meta_size(void);
uint64_t pool_mapped(void);
uint64_t pool_mappings(void);
uint64_t pool_shared(void);
uint32_t pool_ranges(struct mica_bootinfo_range *out, uint32_t max, uint64_t *frames);

#endif /* KERNEL_POOL_H */
