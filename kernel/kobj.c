/*
 * Kernel objects: counting them, and releasing one whose last reference
 * is gone (by type). An endpoint also hears of every other reference that
 * goes, so that it dies when its last receive handle does.
 */
#include "aspace.h"
#include "ioport.h"
#include "ipc.h"
#include "irq.h"
#include "kobj.h"
#include "notify.h"
#include "panic.h"
#include "thread.h"

static uint64_t live; /* objects initialised and not yet released */

/* A new object of `type` with one reference, its creator's. */
void kobj_init(struct kobj *o, uint32_t type)
{
	o->type = type;
	o->refs = 1;
	o->recv_handles = 0;
	live++;
}

/* Drop one reference; release the object with the last. */
void kobj_unref(struct kobj *o)
{
	if (--o->refs != 0) {
		if (o->type == MICA_OBJ_ENDPOINT)
			endpoint_unreferenced((struct endpoint *)o);
		return;
	}
	live--;
	switch (o->type) {
	case MICA_OBJ_ASPACE:
		aspace_release((struct aspace *)o);
		break;
	case MICA_OBJ_ENDPOINT:
		endpoint_release((struct endpoint *)o);
		break;
	case MICA_OBJ_THREAD:
		thread_release((struct thread *)o);
		break;
	case MICA_OBJ_NOTIFY:
		notify_release((struct notification *)o);
		break;
	case MICA_OBJ_IRQ:
		irq_release((struct irq *)o);
		break;
	case MICA_OBJ_IOPORT:
		ioport_release((struct ioport *)o);
		break;
	case MICA_OBJ_DEVICES:
		devices_release(o);
		break;
	default:
		panic("kobj: release of an object of type %u", o->type);
	}
}

/* Objects alive, for the statistics call. */
uint64_t kobj_count(void)
{
	return live;
}
