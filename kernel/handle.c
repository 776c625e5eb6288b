/*
 * Handle tables. A handle is an index into its table; a used slot holds a
 * reference to its object, and closing it drops that reference. `hint` is
 * the lowest slot that may be free: every slot below it is used, so the
 * lowest free slot is found by scanning from hint, never from 0. Allocating
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
#include "handle.h"

/* Is h a used slot of t? */
static bool in_use(const struct handle_table *t, mica_handle_t h)
{
	return h >= 0 && (uint32_t)h < t->cap && t->slot[h].obj != NULL;
}

/* The lowest free slot of t in *idx; false if t is full. Changes nothing. */
static bool find_free(const struct handle_table *t, uint32_t *idx)
{
	if (t->count >= t->cap)
		return false;
	for (uint32_t i = t->hint; i < t->cap; i++) {
		if (t->slot[i].obj == NULL) {
			*idx = i;
			return true;
		}
	}
	return false;
}

/* Fill free slot i, the lowest free one (from find_free). Takes no reference. */
static void install(struct handle_table *t, uint32_t i, struct kobj *obj, uint32_t rights,
                    uint64_t badge)
{
	t->slot[i] = (struct handle){.obj = obj, .rights = rights, .badge = badge};
	if (rights & MICA_RIGHT_RECV)
		obj->recv_handles++;
	t->count++;
	t->hint = i + 1;
}

/* Empty used slot i; return its object, whose reference the caller now owns. */
static struct kobj *uninstall(struct handle_table *t, uint32_t i)
{
	struct kobj *obj = t->slot[i].obj;

	if (t->slot[i].rights & MICA_RIGHT_RECV)
		obj->recv_handles--;
	t->slot[i] = (struct handle){.obj = NULL, .rights = 0, .badge = 0};
	t->count--;
	if (i < t->hint)
		t->hint = i;
	return obj;
}

/*
 * Make t an empty table over `cap` slots at `slots`, which the caller owns
 * and must keep until the table is cleared. A cap above HANDLE_CAP_MAX is
 * cut to it (larger indices could not be named by a mica_handle_t).
 */
void handle_table_init(struct handle_table *t, struct handle *slots, uint32_t cap)
{
	if (cap > HANDLE_CAP_MAX)
		cap = HANDLE_CAP_MAX;
	t->slot = slots;
	t->cap = cap;
	t->count = 0;
	t->hint = 0;
	for (uint32_t i = 0; i < cap; i++)
		slots[i] = (struct handle){.obj = NULL, .rights = 0, .badge = 0};
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
	/* Room in the table. */
	if (!find_free(t, &i))
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
	/* A used slot. */
	if (!in_use(t, h))
		return MICA_EBADH;
	const struct handle *s = &t->slot[h];
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
	const struct handle src = from->slot[h];
	if ((src.rights & MICA_RIGHT_COPY) == 0)
		return MICA_ERIGHTS;
	/* Room in the destination. */
	if (!find_free(to, &i))
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
	/* Room in the destination. */
	if (!find_free(to, &i))
		return MICA_ENOMEM;

	const struct handle src = from->slot[h];
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
	const struct handle src = t->slot[h];
	if (src.obj->type != MICA_OBJ_ENDPOINT && src.obj->type != MICA_OBJ_NOTIFY)
		return MICA_EBADH;
	/* A notification's badge is the bits it signals: within the word. */
	if (src.obj->type == MICA_OBJ_NOTIFY && (badge & ~MICA_NOTIFY_BITS))
		return MICA_EINVAL;
	/* The right to copy it, and no badge yet. */
	if ((src.rights & MICA_RIGHT_COPY) == 0 || src.badge != 0)
		return MICA_ERIGHTS;
	/* Room in the table. */
	if (!find_free(t, &i))
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
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->slot[i].obj != NULL)
			kobj_unref(uninstall(t, i));
}
