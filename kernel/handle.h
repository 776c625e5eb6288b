/*
 * Handle tables: one per address space, mapping the small integers a task
 * uses (mica_handle_t) to kernel objects, with the rights and badge the
 * holder has. Each used slot holds one reference to its object.
 */
#ifndef KERNEL_HANDLE_H
#define KERNEL_HANDLE_H

#include <mica/handle.h>
#include <mica/layout.h>
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

/* Slots in one page of a growing table: what fits in a frame beside the count. */
#define HANDLE_PAGE_SLOTS ((MICA_PAGE_SIZE - sizeof(uint64_t)) / sizeof(struct handle))

/* A page of a growing table: one reserve frame. */
struct handle_page {
	struct handle slot[HANDLE_PAGE_SLOTS];
	uint32_t used; /* slots of it in use: the page goes back to the reserve at 0 */
};

/* Page pointers per directory frame. */
#define HANDLE_DIR_PER_FRAME (MICA_PAGE_SIZE / sizeof(struct handle_page *))

/*
 * A table: `nfixed` slots in memory its owner provides, handles 0 ..
 * nfixed - 1, and, if it may grow, pages of HANDLE_PAGE_SLOTS slots from
 * the kernel's reserve after them, found through a directory (reserve
 * frames too, doubled when full). Handle v >= nfixed is slot
 * (v - nfixed) % HANDLE_PAGE_SLOTS of page (v - nfixed) / HANDLE_PAGE_SLOTS:
 * a lookup is O(1). A page is taken when a handle first needs it and given
 * back when its last handle closes; the directory goes with the last page.
 * No lock of its own: the caller serialises every call on a table (and on
 * both tables for copy and move).
 */
struct handle_table {
	/* Fixed at init. */
	struct handle *slot; /* nfixed slots, owned by the caller */
	uint32_t nfixed;
	bool grows; /* may take pages from the reserve */
	/* Changed as pages come and go. */
	uint32_t cap;             /* handles are below it: nfixed + npages * HANDLE_PAGE_SLOTS */
	uint32_t npages;          /* directory entries in use; the last is not NULL */
	uint32_t dir_frames;      /* the directory's frames (a power of two), 0: none */
	uint32_t frames;          /* reserve frames held: pages and directory */
	struct handle_page **dir; /* dir[p]: page p, or NULL (none: its handles are free) */
	/* Changed by every allocation and close. */
	uint32_t count; /* used slots */
	uint32_t hint;  /* every slot below hint is used: allocation scans from here */
};

/* The slot of handle value v (any 64-bit value) in t, or NULL if there is none. O(1). */
static inline struct handle *handle_slot(const struct handle_table *t, uint64_t v)
{
	if (__builtin_expect(v < t->nfixed, 1)) /* the fast path's case: one compare */
		return &t->slot[v];
	if (v >= t->cap)
		return NULL; /* also every negative value */
	v -= t->nfixed;
	struct handle_page *p = t->dir[v / HANDLE_PAGE_SLOTS];
	return p ? &p->slot[v % HANDLE_PAGE_SLOTS] : NULL;
}

/*
 * handle_get's checks inline, for the IPC fast path: the slot of handle
 * value v (any 64-bit value) if it holds an object of `type` with
 * need_rights, else NULL.
 */
static inline const struct handle *handle_peek(const struct handle_table *t, uint64_t v,
                                               uint32_t type, uint32_t need_rights)
{
	const struct handle *s = handle_slot(t, v);

	if (!s || !s->obj || s->obj->type != type || (s->rights & need_rights) != need_rights)
		return NULL;
	return s;
}

void handle_table_init(struct handle_table *t, struct handle *slots, uint32_t cap);
void handle_table_init_growing(struct handle_table *t, struct handle *slots, uint32_t nfixed);
int handle_room(struct handle_table *t);
void handle_room_undo(struct handle_table *t);
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
