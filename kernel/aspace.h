/* Address spaces: a page-table root (and, next, a handle table). */
#ifndef KERNEL_ASPACE_H
#define KERNEL_ASPACE_H

#include "kobj.h"
#include "types.h"

struct aspace {
	struct kobj obj;
	paddr_t root;     /* PML4, kernel half shared */
	uint32_t threads; /* live threads in it */
	uint32_t id;
};

int aspace_create(struct aspace **out);
void aspace_destroy(struct aspace *as);

#endif /* KERNEL_ASPACE_H */
