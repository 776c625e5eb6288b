/*
 * Handle tables. A handle is an index into its table; a used slot holds a
 * reference to its object, and closing it drops that reference. A growing
 * table takes pages of slots from the reserve as handles need them and
 * gives each back when its last handle closes (handle.h has the layout).
 * `hint` is the lowest slot that may be free: every slot below it is used
 * (a page given back had only free slots), so the lowest free slot is
 * found by scanning from hint, never from 0, skipping full pages. Allocating
 * slot i (the lowest free) sets hint to i + 1; freeing slot i lowers hint to
 * i if it was above. Each call checks everything first and only then
 * changes the table, so a refused call leaves the table and every
 * reference count as they were. Each object also counts the slots that
 * hold it with MICA_RIGHT_RECV (recv_handles): install and uninstall keep
 * that count, so copies, moves, mints and closes all keep it right, and an
 * endpoint hears (through kobj_unref) when its last receive handle goes.
 */
#include <mica/error.h>
#include <mica/notify.h>
#include "frame.h"
#include "handle.h"
#include "phys.h"

/* Is h a used slot of t? */
static bool in_use(const struct handle_table *t, mica_handle_t h)
{
	const struct handle *s = handle_slot(t, (uint64_t)(int64_t)h); /* negative: huge, none */

	return s != NULL && s->obj != NULL;
}

/* The slot of used handle h (in_use(t, h)). */
static struct handle *used_slot(const struct handle_table *t, mica_handle_t h)
{
	return handle_slot(t, (uint64_t)h);
}

/* Page p of a growing table, or NULL. */
static struct handle_page *page_of(const struct handle_table *t, uint32_t i)
{
	return t->dir[(i - t->nfixed) / HANDLE_PAGE_SLOTS];
}

/*
 * The lowest free slot of t in *idx: one below cap, or cap itself when a
 * growing table may take a page there (handle_room makes it). False if t is
 * full for good. Changes nothing; pages that are full are skipped whole.
 */
static bool find_free(const struct handle_table *t, uint32_t *idx)
{
	uint32_t i = t->hint;

	for (; i < t->nfixed; i++) {
		if (t->slot[i].obj == NULL) {
			*idx = i;
			return true;
		}
	}
	while (i < t->cap) {
		const struct handle_page *p = page_of(t, i);
		uint32_t end = i - (i - t->nfixed) % HANDLE_PAGE_SLOTS + HANDLE_PAGE_SLOTS;

		if (p == NULL) {
			*idx = i; /* a page given back: taken again */
			return true;
		}
		if (p->used < HANDLE_PAGE_SLOTS) {
			for (; i < end; i++) {
				if (p->slot[(i - t->nfixed) % HANDLE_PAGE_SLOTS].obj == NULL) {
					*idx = i;
					return true;
				}
			}
		}
		i = end;
	}
	if (!t->grows || t->cap > HANDLE_CAP_MAX - HANDLE_PAGE_SLOTS)
		return false;
	*idx = t->cap;
	return true;
}

/* The directory entries a directory of `frames` frames holds. */
static uint64_t dir_entries(uint32_t frames)
{
	return (uint64_t)frames * HANDLE_DIR_PER_FRAME;
}

/*
 * Make slot i (from find_free) exist: take its page from the reserve, and a
 * directory (or one twice as large) if it has no entry for it. MICA_ENOMEM
 * if the reserve has no frame (or no run for the directory); the table is
 * then as it was.
 */
static int make_slot(struct handle_table *t, uint32_t i)
{
	uint32_t p;
	paddr_t pa, dpa;

	if (i < t->nfixed)
		return MICA_OK;
	p = (i - t->nfixed) / HANDLE_PAGE_SLOTS;
	if (p < t->npages && t->dir[p] != NULL)
		return MICA_OK;
	if (frame_alloc(&pa) != MICA_OK)
		return MICA_ENOMEM;
	if (p >= dir_entries(t->dir_frames)) {
		/* A new directory, twice the old one (one frame at first), the entries copied. */
		uint32_t nf = t->dir_frames ? 2 * t->dir_frames : 1;
		struct handle_page **nd;

		if (frame_alloc_run(nf, 1, &dpa) != MICA_OK) {
			(void)frame_free(pa, 1);
			return MICA_ENOMEM;
		}
		nd = phys_to_virt(dpa);
		for (uint64_t k = 0; k < dir_entries(nf); k++)
			nd[k] = k < t->npages ? t->dir[k] : NULL;
		if (t->dir_frames)
			(void)frame_free(virt_to_phys(t->dir), t->dir_frames);
		t->frames += nf - t->dir_frames;
		t->dir = nd;
		t->dir_frames = nf;
	}
	struct handle_page *pg = phys_to_virt(pa);

	for (uint32_t k = 0; k < HANDLE_PAGE_SLOTS; k++)
		pg->slot[k] = (struct handle){.obj = NULL, .rights = 0, .badge = 0};
	pg->used = 0;
	t->dir[p] = pg;
	t->frames++;
	if (p >= t->npages) {
		t->npages = p + 1;
		t->cap = t->nfixed + t->npages * (uint32_t)HANDLE_PAGE_SLOTS;
	}
	return MICA_OK;
}

/*
 * Page p has no handle left: give it back, then the directory entries at
 * the end that name no page, and the directory with the last page.
 */
static void page_drop(struct handle_table *t, uint32_t p)
{
	(void)frame_free(virt_to_phys(t->dir[p]), 1);
	t->dir[p] = NULL;
	t->frames--;
	while (t->npages > 0 && t->dir[t->npages - 1] == NULL)
		t->npages--;
	t->cap = t->nfixed + t->npages * (uint32_t)HANDLE_PAGE_SLOTS;
	if (t->npages == 0) {
		(void)frame_free(virt_to_phys(t->dir), t->dir_frames);
		t->frames -= t->dir_frames;
		t->dir = NULL;
		t->dir_frames = 0;
	}
}

/* Fill free slot i, the lowest free one (from find_free, made by make_slot). Takes no reference. */
static void install(struct handle_table *t, uint32_t i, struct kobj *obj, uint32_t rights,
                    uint64_t badge)
{
	*handle_slot(t, i) = (struct handle){.obj = obj, .rights = rights, .badge = badge};
	if (i >= t->nfixed)
		page_of(t, i)->used++;
	if (rights & MICA_RIGHT_RECV)
		obj->recv_handles++;
	t->count++;
	t->hint = i + 1;
}

/* Empty used slot i; return its object, whose reference the caller now owns. */
static struct kobj *uninstall(struct handle_table *t, uint32_t i)
{
	struct handle *s = handle_slot(t, i);
	struct kobj *obj = s->obj;

	if (s->rights & MICA_RIGHT_RECV)
		obj->recv_handles--;
	*s = (struct handle){.obj = NULL, .rights = 0, .badge = 0};
	t->count--;
	if (i < t->hint)
		t->hint = i;
	if (i >= t->nfixed && --page_of(t, i)->used == 0)
		page_drop(t, (i - t->nfixed) / HANDLE_PAGE_SLOTS);
	return obj;
}

/* A free slot of t, made if need be, in *idx: MICA_ENOMEM if t is full or no page can be had. */
static int take_free(struct handle_table *t, uint32_t *idx)
{
	if (!find_free(t, idx))
		return MICA_ENOMEM;
	return make_slot(t, *idx);
}

/*
 * Make t an empty table over `cap` slots at `slots`, which the caller owns
 * and must keep until the table is cleared; it never grows. A cap above
 * HANDLE_CAP_MAX is cut to it (larger indices could not be named by a
 * mica_handle_t).
 */
void handle_table_init(struct handle_table *t, struct handle *slots, uint32_t cap)
{
	if (cap > HANDLE_CAP_MAX)
		cap = HANDLE_CAP_MAX;
	*t = (struct handle_table){.slot = slots, .nfixed = cap, .cap = cap};
	for (uint32_t i = 0; i < cap; i++)
		slots[i] = (struct handle){.obj = NULL, .rights = 0, .badge = 0};
}

/*
 * The same for a table that grows past its nfixed slots at `slots` with
 * pages from the reserve (an address space's), up to HANDLE_CAP_MAX.
 */
void handle_table_init_growing(struct handle_table *t, struct handle *slots, uint32_t nfixed)
{
	handle_table_init(t, slots, nfixed);
	t->grows = true;
}

/*
 * Make sure t has a free slot, taking a page from the reserve if it must:
 * for callers that create an object and then install it with handle_alloc,
 * which then cannot fail. MICA_ENOMEM if t is full for good or the reserve
 * has no frame. A caller whose object cannot be made after all calls
 * handle_room_undo.
 */
int handle_room(struct handle_table *t)
{
	uint32_t i;

	return take_free(t, &i);
}

/*
 * Give back a page handle_room took if no handle went into it (the object
 * could not be made), so a refused call leaves the reserve as it was.
 * Every other page has a handle.
 */
void handle_room_undo(struct handle_table *t)
{
	for (uint32_t p = t->npages; p-- > 0;)
		if (t->dir[p] != NULL && t->dir[p]->used == 0)
			page_drop(t, p);
}

/*
 * Put obj in the lowest free slot of t with `rights` and `badge`, taking a
 * reference; store the handle in *out. Returns MICA_EINVAL for a NULL
 * object, an object of type MICA_OBJ_NONE, rights outside MICA_RIGHTS_ALL
 * or a non-zero badge on anything but an endpoint; MICA_ENOMEM if t is
 * full.
 */
int handle_alloc(struct handle_table *t, struct kobj *obj, uint32_t rights, uint64_t badge,
                 mica_handle_t *out)
{
	uint32_t i;

	/* A real object. */
	if (obj == NULL || obj->type == MICA_OBJ_NONE)
		return MICA_EINVAL;
	/* Only defined rights. */
	if ((rights & ~MICA_RIGHTS_ALL) != 0)
		return MICA_EINVAL;
	/* Badges only on endpoints and notifications. */
	if (badge != 0 && obj->type != MICA_OBJ_ENDPOINT && obj->type != MICA_OBJ_NOTIFY)
		return MICA_EINVAL;
	/* Room in the table (a page taken if need be). */
	if (take_free(t, &i) != MICA_OK)
		return MICA_ENOMEM;

	kobj_ref(obj);
	install(t, i, obj, rights, badge);
	*out = (mica_handle_t)i;
	return MICA_OK;
}

/*
 * Look h up in t: an object of `type` (MICA_OBJ_NONE: any type) with at
 * least the rights in need_rights. On success *out (if out is not NULL)
 * points at the slot, valid until the next call that changes t. Returns
 * MICA_EBADH if h is negative, past the table, free, or names an object of
 * another type; MICA_ERIGHTS if it lacks one of need_rights.
 */
int handle_get(const struct handle_table *t, mica_handle_t h, uint32_t type, uint32_t need_rights,
               const struct handle **out)
{
	/* A used slot (a negative value is a huge one: none). */
	const struct handle *s = handle_slot(t, (uint64_t)(int64_t)h);
	if (s == NULL || s->obj == NULL)
		return MICA_EBADH;
	/* The type asked for. */
	if (type != MICA_OBJ_NONE && s->obj->type != type)
		return MICA_EBADH;
	/* Every right asked for. */
	if ((s->rights & need_rights) != need_rights)
		return MICA_ERIGHTS;

	if (out != NULL)
		*out = s;
	return MICA_OK;
}

/*
 * Free handle h of t and drop its reference, which may release the object
 * (the slot is already free when kobj_release runs). Returns MICA_EBADH if
 * h is not a used slot.
 */
int handle_close(struct handle_table *t, mica_handle_t h)
{
	/* A used slot. */
	if (!in_use(t, h))
		return MICA_EBADH;

	kobj_unref(uninstall(t, (uint32_t)h));
	return MICA_OK;
}

/*
 * Make a new handle in `to` (which may be `from`) to the object of handle h
 * in `from`, with rights (old rights & rights_mask) and the same badge,
 * taking a reference; store it in *out. Returns MICA_EBADH if h is not a
 * used slot, MICA_ERIGHTS if it lacks MICA_RIGHT_COPY, MICA_ENOMEM if `to`
 * is full.
 */
int handle_copy(struct handle_table *from, mica_handle_t h, struct handle_table *to,
                uint32_t rights_mask, mica_handle_t *out)
{
	uint32_t i;

	/* A used slot with the right to copy it. */
	if (!in_use(from, h))
		return MICA_EBADH;
	const struct handle src = *used_slot(from, h);
	if ((src.rights & MICA_RIGHT_COPY) == 0)
		return MICA_ERIGHTS;
	/* Room in the destination (a page taken if need be). */
	if (take_free(to, &i) != MICA_OK)
		return MICA_ENOMEM;

	kobj_ref(src.obj);
	install(to, i, src.obj, src.rights & rights_mask, src.badge);
	*out = (mica_handle_t)i;
	return MICA_OK;
}

/*
 * Move handle h from `from` to the lowest free slot of `to`, rights and
 * badge unchanged, its reference with it; store the new handle in *out.
 * Needs no right. If to == from nothing moves and *out = h. Returns
 * MICA_EBADH if h is not a used slot, MICA_ENOMEM if `to` is full.
 */
int handle_move(struct handle_table *from, mica_handle_t h, struct handle_table *to,
                mica_handle_t *out)
{
	uint32_t i;

	/* A used slot. */
	if (!in_use(from, h))
		return MICA_EBADH;
	/* Moving within one table changes nothing. */
	if (to == from) {
		*out = h;
		return MICA_OK;
	}
	/* Room in the destination (a page taken if need be). */
	if (take_free(to, &i) != MICA_OK)
		return MICA_ENOMEM;

	const struct handle src = *used_slot(from, h);
	(void)uninstall(from, (uint32_t)h);
	install(to, i, src.obj, src.rights, src.badge);
	*out = (mica_handle_t)i;
	return MICA_OK;
}

/*
 * Derive a badged handle in t from unbadged endpoint (or notification)
 * handle h: the same object, rights (old rights & rights_mask), the given
 * badge; takes a reference and stores the handle in *out. Returns
 * MICA_EINVAL for badge 0 (or, for a notification, one past
 * MICA_NOTIFY_BITS); MICA_EBADH if h is not a used slot or not an
 * endpoint or notification; MICA_ERIGHTS if
 * h lacks MICA_RIGHT_COPY or already has a badge (badges are never
 * replaced); MICA_ENOMEM if t is full.
 */
int handle_mint(struct handle_table *t, mica_handle_t h, uint32_t rights_mask, uint64_t badge,
                mica_handle_t *out)
{
	uint32_t i;

	/* A badge to give. */
	if (badge == 0)
		return MICA_EINVAL;
	/* A used slot naming an endpoint. */
	if (!in_use(t, h))
		return MICA_EBADH;
	const struct handle src = *used_slot(t, h);
	if (src.obj->type != MICA_OBJ_ENDPOINT && src.obj->type != MICA_OBJ_NOTIFY)
		return MICA_EBADH;
	/* A notification's badge is the bits it signals: within the word. */
	if (src.obj->type == MICA_OBJ_NOTIFY && (badge & ~MICA_NOTIFY_BITS))
		return MICA_EINVAL;
	/* The right to copy it, and no badge yet. */
	if ((src.rights & MICA_RIGHT_COPY) == 0 || src.badge != 0)
		return MICA_ERIGHTS;
	/* Room in the table (a page taken if need be). */
	if (take_free(t, &i) != MICA_OK)
		return MICA_ENOMEM;

	kobj_ref(src.obj);
	install(t, i, src.obj, src.rights & rights_mask, badge);
	*out = (mica_handle_t)i;
	return MICA_OK;
}

/*
 * Close every handle of t, dropping each reference once: an object is
 * released when its last handle (here or elsewhere) goes. Each slot is
 * freed before its reference is dropped. For destroying an address space.
 */
void handle_table_clear(struct handle_table *t)
{
	for (uint32_t i = 0; i < t->cap; i++) {
		const struct handle *s = handle_slot(t, i);

		if (s != NULL && s->obj != NULL)
			kobj_unref(uninstall(t, i));
	}
	/* Pages taken by handle_room and never used. */
	for (uint32_t p = t->npages; p-- > 0;)
		if (t->dir[p] != NULL)
			page_drop(t, p);
}
