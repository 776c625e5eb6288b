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

void kobj_init(struct kobj *o, uint32_t type);
void kobj_unref(struct kobj *o);
uint64_t kobj_count(void);

static inline void kobj_ref(struct kobj *o)
{
	o->refs++;
}

#endif /* KERNEL_KOBJ_H */
