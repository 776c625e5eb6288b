/*
 * The header every kernel object starts with: its type (enum mica_obj_type)
 * and a reference count. Handles, and kernel structures that point at an
 * object, each hold one reference; the object is released when the last
 * goes away.
 */
#ifndef KERNEL_KOBJ_H
#define KERNEL_KOBJ_H

#include <mica/handle.h>
#include "types.h"

struct kobj {
	uint32_t type;
	uint32_t refs;
};

/* Free an object whose last reference is gone (dispatches on its type). */
void kobj_release(struct kobj *o);

static inline void kobj_ref(struct kobj *o)
{
	o->refs++;
}

static inline void kobj_unref(struct kobj *o)
{
	if (--o->refs == 0)
		kobj_release(o);
}

#endif /* KERNEL_KOBJ_H */
