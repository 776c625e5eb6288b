/*
 * The page-table module: map, unmap, change rights and translate in any
 * 4-level page table (not only the current one). Tables come from the
 * frame bitmap; empty ones are freed. Every call validates all of its
 * arguments and the whole range first, so a refused call changes nothing.
 */
#ifndef ARCH_PT_H
#define ARCH_PT_H

#include "types.h"

/* Mapping flags. Every present mapping is readable. */
#define PT_WRITE     (1u << 0) /* writable */
#define PT_EXEC      (1u << 1) /* executable (otherwise NX) */
#define PT_USER      (1u << 2) /* user-accessible: only in the user half */
#define PT_GLOBAL    (1u << 3) /* global (kept across CR3 loads): kernel half */
#define PT_LARGE     (1u << 4) /* pt_map may use 2 MiB pages where aligned */
#define PT_FLAGS_ALL (PT_WRITE | PT_EXEC | PT_USER | PT_GLOBAL | PT_LARGE)

/* Above this many pages changed, one full TLB flush beats invlpg each. */
#define PT_INVLPG_MAX 32

/* Highest physical address a page-table entry can name (52 bits). */
#define PT_PHYS_MAX (1ULL << 52)

/*
 * Bumped whenever a mapping is removed or loses rights (pt_unmap,
 * pt_protect, pt_drain_user, pt_root_destroy), in any address space: the
 * moment a TLB would have to forget. A translation of a user page read
 * while it had one value stays true while it has it (usercopy.c keeps
 * threads' translations across calls this way).
 */
extern uint64_t pt_generation;

/* Called for each mapping pt_unmap or pt_root_destroy removes. */
typedef void (*pt_unmap_fn)(void *arg, vaddr_t va, paddr_t pa, uint64_t npages);

int pt_map(paddr_t root, vaddr_t va, paddr_t pa, uint64_t npages, unsigned flags);
int pt_map_user_page(paddr_t root, vaddr_t va, paddr_t pa, unsigned flags);
int pt_unmap_user_page(paddr_t root, vaddr_t va, paddr_t *pa);
int pt_map_need(paddr_t root, vaddr_t va, uint64_t npages, unsigned flags, uint64_t *need);
int pt_unmap(paddr_t root, vaddr_t va, uint64_t npages, pt_unmap_fn fn, void *arg);
int pt_protect(paddr_t root, vaddr_t va, uint64_t npages, unsigned flags);
int pt_translate(paddr_t root, vaddr_t va, paddr_t *pa, unsigned *flags);
int pt_kernel_slot_create(paddr_t kernel_root, vaddr_t va);
int pt_root_create(paddr_t kernel_root, paddr_t *root);
void pt_root_destroy(paddr_t root, pt_unmap_fn fn, void *arg);
void pt_root_free(paddr_t root);
bool pt_drain_user(paddr_t root, uint64_t *budget, pt_unmap_fn fn, void *arg);
uint64_t pt_table_count(void);

#endif /* ARCH_PT_H */
