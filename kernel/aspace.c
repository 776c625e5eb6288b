/*
 * Address spaces. One frame holds the object and, after it, the slots of
 * its handle table; its PML4 shares the kernel half. Destroying one closes
 * its handles, unmaps the user half and frees its page tables.
 * (Until the pager exists the kernel also frees the user frames; from then
 * on it reports them to the pager instead.)
 */
#include <mica/error.h>
#include "aspace.h"
#include "frame.h"
#include "lib/string.h"
#include "phys.h"
#include "pt.h"
#include "vm.h"

static uint32_t next_id = 1;

/* Create an empty address space. Errors: MICA_ENOMEM. */
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
	as->obj = (struct kobj){MICA_OBJ_ASPACE, 1};
	as->root = root;
	as->id = next_id++;
	handle_table_init(&as->handles, (struct handle *)(as + 1), ASPACE_HANDLES);
	*out = as;
	return MICA_OK;
}

static void free_user_frames(void *arg, vaddr_t va, paddr_t pa, uint64_t npages)
{
	(void)arg;
	(void)va;
	(void)frame_free(pa, npages);
}

/* Tear an address space down: every user frame and table, then the object. */
void aspace_destroy(struct aspace *as)
{
	handle_table_clear(&as->handles);
	pt_root_destroy(as->root, free_user_frames, NULL);
	(void)frame_free(virt_to_phys(as), 1);
}
