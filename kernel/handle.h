/*
 * Handle tables: one per address space, mapping the small integers a task
 * uses (mica_handle_t) to kernel objects, with the rights and badge the
 * holder has. Each used slot holds one reference to its object.
 */
#ifndef KERNEL_HANDLE_H
#define KERNEL_HANDLE_H

#include <mica/handle.h>
#include "kobj.h"
#include "types.h"

/* The largest table: every index must fit in a non-negative mica_handle_t. */
#define HANDLE_CAP_MAX ((uint32_t)INT32_MAX + 1)

/* One slot. obj == NULL means the slot is free (rights and badge are then 0). */
struct handle {
	struct kobj *obj; /* holds one reference */
	uint32_t rights;  /* MICA_RIGHT_* bits, a subset of MICA_RIGHTS_ALL */
	uint64_t badge;   /* endpoints: what the receiver sees; 0 = unbadged */
};

/*
 * A table over slot memory its owner provides. No lock of its own: the
 * caller serialises every call on a table (and on both tables for copy and
 * move).
 */
struct handle_table {
	/* Fixed at handle_table_init. */
	struct handle *slot; /* cap slots, owned by the caller */
	uint32_t cap;        /* slots; handles are 0 .. cap-1 */
	/* Changed by every allocation and close. */
	uint32_t count; /* used slots */
	uint32_t hint;  /* every slot below hint is used: allocation scans from here */
};

/*
 * handle_get's checks inline, for the IPC fast path: the slot of handle
 * value v (any 64-bit value) if it holds an object of `type` with
 * need_rights, else NULL.
 */
static inline const struct handle *handle_peek(const struct handle_table *t, uint64_t v,
                                               uint32_t type, uint32_t need_rights)
{
	if (v >= t->cap)
		return NULL; /* also every negative value */
	const struct handle *s = &t->slot[v];
	if (!s->obj || s->obj->type != type || (s->rights & need_rights) != need_rights)
		return NULL;
	return s;
}

void handle_table_init(struct handle_table *t, struct handle *slots, uint32_t cap);
int handle_alloc(struct handle_table *t, struct kobj *obj, uint32_t rights, uint64_t badge,
                 mica_handle_t *out);
int handle_get(const struct handle_table *t, mica_handle_t h, uint32_t type, uint32_t need_rights,
               const struct handle **out);
int handle_close(struct handle_table *t, mica_handle_t h);
int handle_copy(struct handle_table *from, mica_handle_t h, struct handle_table *to,
                uint32_t rights_mask, mica_handle_t *out);
int handle_move(struct handle_table *from, mica_handle_t h, struct handle_table *to,
                mica_handle_t *out);
int handle_mint(struct handle_table *t, mica_handle_t h, uint32_t rights_mask, uint64_t badge,
                mica_handle_t *out);
void handle_table_clear(struct handle_table *t);

#endif /* KERNEL_HANDLE_H */
