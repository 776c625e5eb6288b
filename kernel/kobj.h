/*
 * The header every kernel object starts with: its type (enum mica_obj_type),
 * a reference count and a count of the handles to it that have
 * MICA_RIGHT_RECV. Handles, and kernel structures that point at an object,
 * each hold one reference; the object is released when the last goes away.
 * An endpoint whose last receive handle is gone is dead (ipc.c): nobody can
 * ever receive on it again, though send handles may keep it allocated.
 */
#ifndef KERNEL_KOBJ_H
#define KERNEL_KOBJ_H

#include <mica/handle.h>
#include "types.h"

struct kobj {
	uint32_t type;
	uint32_t refs;
	uint32_t recv_handles; /* handles with MICA_RIGHT_RECV (kept by handle.c) */
};

void kobj_init(struct kobj *o, uint32_t type);
void kobj_unref(struct kobj *o);
uint64_t kobj_count(void);

static inline void kobj_ref(struct kobj *o)
{
	o->refs++;
}

#endif /* KERNEL_KOBJ_H */
