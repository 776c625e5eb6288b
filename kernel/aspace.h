/* Address spaces: a page-table root and a handle table. */
#ifndef KERNEL_ASPACE_H
#define KERNEL_ASPACE_H

#include <mica/layout.h>
#include "handle.h"
#include "kobj.h"
#include "types.h"

struct aspace {
	struct kobj obj;
	paddr_t root;     /* PML4, kernel half shared */
	uint32_t threads; /* live threads in it */
	uint32_t id;
	struct handle_table handles; /* slots fill the rest of the object's frame */
};

/* Handles per address space: what fits in the frame after the object. */
#define ASPACE_HANDLES ((MICA_PAGE_SIZE - sizeof(struct aspace)) / sizeof(struct handle))

int aspace_create(struct aspace **out);
void aspace_destroy(struct aspace *as);

#endif /* KERNEL_ASPACE_H */
