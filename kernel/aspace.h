/* Address spaces: a page-table root, a handle table, the threads in it. */
#ifndef KERNEL_ASPACE_H
#define KERNEL_ASPACE_H

#include <mica/device.h>
#include <mica/layout.h>
#include "handle.h"
#include "kobj.h"
#include "types.h"

struct ioport;
struct thread;

struct aspace {
	struct kobj obj; /* references: handles, and each thread in it */
	paddr_t root;    /* PML4, kernel half shared */
	uint32_t id;
	uint32_t nthreads;      /* threads in it not yet ended */
	struct thread *threads; /* those threads, linked by as_next */
	bool dead;              /* destroyed: no threads, handles or new mappings */
	bool emptied;           /* its last thread left and cleared its handle table */
	bool drained;           /* destroy emptied its user half; dead, so it stays empty */
	struct ioport *ports[MICA_IOPORT_PER_ASPACE]; /* ranges enabled (ioport.c), in order */
	struct handle_table handles; /* its first slots fill the rest of the object's frame */
};

/* Handles in the address space's own frame, after the object; more take reserve pages (handle.h).
 */
#define ASPACE_HANDLES ((MICA_PAGE_SIZE - sizeof(struct aspace)) / sizeof(struct handle))

int aspace_create(struct aspace **out);
void aspace_kill(struct aspace *as);
void aspace_unmapped(void *arg, vaddr_t va, paddr_t pa, uint64_t npages);
void aspace_release(struct aspace *as);

#endif /* KERNEL_ASPACE_H */
