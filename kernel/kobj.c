/* Releasing kernel objects whose last reference is gone, by type. */
#include "aspace.h"
#include "ipc.h"
#include "kobj.h"
#include "panic.h"

/* Called by kobj_unref when the count reaches zero. */
void kobj_release(struct kobj *o)
{
	switch (o->type) {
	case MICA_OBJ_ASPACE:
		aspace_destroy((struct aspace *)o);
		break;
	case MICA_OBJ_ENDPOINT:
		endpoint_release((struct endpoint *)o);
		break;
	default:
		panic("kobj: release of an object of type %u", o->type);
	}
}
