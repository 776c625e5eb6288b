/*
 * Address spaces. One frame holds the object and, after it, the first slots
 * of its handle table (which grows past them, handle.h); its PML4 shares
 * the kernel half. Every user frame
 * mapped in one is a pool frame, counted by pool.c. Destroying one (mem.c)
 * ends its threads and closes its handles at once, then empties its page
 * tables in bounded steps, reporting each frame to the pager; the object
 * itself goes with its last reference.
 */
#include <mica/error.h>
#include <mica/fault.h>
#include "aspace.h"
#include "frame.h"
#include "ioport.h"
#include "lib/string.h"
#include "phys.h"
#include "pool.h"
#include "pt.h"
#include "thread.h"
#include "vm.h"

static uint32_t next_id = 1;

/* Create an empty address space, with one reference for the caller. Errors: MICA_ENOMEM. */
int aspace_create(struct aspace **out)
{
	paddr_t pa, root;

	if (frame_alloc(&pa) != MICA_OK)
		return MICA_ENOMEM;
	if (pt_root_create(vm_kernel_root(), &root) != MICA_OK) {
		(void)frame_free(pa, 1);
		return MICA_ENOMEM;
	}
	struct aspace *as = phys_to_virt(pa);
	memset(as, 0, sizeof(*as));
	kobj_init(&as->obj, MICA_OBJ_ASPACE);
	as->root = root;
	as->id = next_id++;
	handle_table_init_growing(&as->handles, (struct handle *)(as + 1), ASPACE_HANDLES);
	*out = as;
	return MICA_OK;
}

/* End every thread in `as` (not the caller's) and close its handles: the first step of destroy. */
void aspace_kill(struct aspace *as)
{
	as->dead = true;
	while (as->threads)
		thread_end(as->threads, MICA_EXIT_KILLED, 0, 0, "address space destroyed");
	if (as->handles.count) /* an empty table need not be scanned */
		handle_table_clear(&as->handles);
}

/* pt_unmap_fn for user mappings: one mapping less of each pool frame. */
void aspace_unmapped(void *arg, vaddr_t va, paddr_t pa, uint64_t npages)
{
	(void)arg;
	(void)va;
	pool_unref(pa, npages);
}

/* The last reference is gone: unmap whatever is left, free the tables and the object. */
void aspace_release(struct aspace *as)
{
	if (as->handles.count) /* aspace_kill may have emptied it */
		handle_table_clear(&as->handles);
	ioport_aspace_release(as);
	/* Drained by destroy (the pager's way): no mapping to look for, only the root to free. */
	if (as->drained)
		pt_root_free(as->root);
	else
		pt_root_destroy(as->root, aspace_unmapped, NULL);
	(void)frame_free(virt_to_phys(as), 1);
}
