/*
 * Interrupt handles (include/mica/device.h). One object per line while
 * any handle to it lives, in a fixed table: irq_create refuses a line that
 * has one. The kernel's interrupt entry (trap.c) calls irq_interrupt for
 * every line but the timer: the line is masked at the PIC and the bound
 * notification signalled; the driver's irq_ack unmasks it. A line nobody
 * bound stays masked (an interrupt that arrives anyway, from before it was
 * masked, is dropped and the line masked again).
 *
 * Also the device authority: the one object (never freed) whose handle,
 * given to the first task at boot, makes interrupt and I/O port handles.
 */
#include <mica/device.h>
#include <mica/error.h>
#include <mica/handle.h>
#include "aspace.h"
#include "irq.h"
#include "notify.h"
#include "pic.h"
#include "sched.h"
#include "syscall.h"

static struct irq lines[MICA_IRQ_LINES];
static bool line_used[MICA_IRQ_LINES];

struct kobj devices_authority = {.type = MICA_OBJ_DEVICES,
                                 .refs = 1}; /* the kernel's own reference */

/* The device authority is never freed (the kernel holds a reference). */
void devices_release(struct kobj *o)
{
	(void)o;
}

/* Line `line` interrupted (trap.c, before its end of interrupt). */
void irq_interrupt(unsigned line)
{
	pic_mask(line);
	if (line >= MICA_IRQ_LINES || !line_used[line])
		return; /* nobody to tell: it stays masked */
	struct irq *q = &lines[line];
	if (!q->ntf || q->pending)
		return;
	q->pending = true;
	notify_signal(q->ntf, q->bits);
}

/* Drop the route of q (masking the line); the notification's reference goes. */
static void unroute(struct irq *q)
{
	struct notification *n = q->ntf;

	pic_mask(q->line);
	q->ntf = NULL;
	q->pending = false;
	if (n)
		kobj_unref(&n->obj);
}

/* The last handle is gone (closed, or its holder ended): mask the line and free it. */
void irq_release(struct irq *q)
{
	unroute(q);
	line_used[q->line] = false;
}

/*
 * irq_create(devices, line): the line's handle (MANAGE, COPY), the line
 * masked. Errors: MICA_EBADH, MICA_ERIGHTS (the authority lacks MANAGE),
 * MICA_EINVAL (line 0, the kernel's timer; 2, the chain; 16 or more),
 * MICA_EBUSY (the line has a handle), MICA_ENOMEM (a full table).
 */
int64_t irq_sys_create(const struct syscall_args *s)
{
	struct handle_table *table = &sched_current()->as->handles;
	uint64_t line = s->a[1];
	mica_handle_t h;

	int rc = syscall_handle(s->a[0], MICA_OBJ_DEVICES, MICA_RIGHT_MANAGE, NULL);
	if (rc != MICA_OK)
		return rc;
	if (line >= MICA_IRQ_LINES || line == IRQ_TIMER || line == IRQ_CHAIN)
		return MICA_EINVAL;
	if (line_used[line])
		return MICA_EBUSY;
	if (handle_room(table) != MICA_OK)
		return MICA_ENOMEM;
	struct irq *q = &lines[line];
	*q = (struct irq){.line = (uint8_t)line};
	kobj_init(&q->obj, MICA_OBJ_IRQ);
	line_used[line] = true;
	(void)handle_alloc(table, &q->obj, MICA_RIGHT_MANAGE | MICA_RIGHT_COPY, 0, &h);
	kobj_unref(&q->obj); /* the handle holds it now */
	return h;
}

/*
 * irq_bind(irq, n): route the line to notification n (SIGNAL; it signals
 * n's badge, or bit 0 if it has none) and unmask it; MICA_HANDLE_NONE
 * unroutes it and masks it. A route replaces the one before. Errors:
 * MICA_EBADH, MICA_ERIGHTS (irq lacks MANAGE, n lacks SIGNAL).
 */
int64_t irq_sys_bind(const struct syscall_args *s)
{
	const struct handle *hq, *hn = NULL;

	int rc = syscall_handle(s->a[0], MICA_OBJ_IRQ, MICA_RIGHT_MANAGE, &hq);
	if (rc != MICA_OK)
		return rc;
	struct irq *q = (struct irq *)hq->obj;
	if ((int64_t)s->a[1] != MICA_HANDLE_NONE) {
		rc = syscall_handle(s->a[1], MICA_OBJ_NOTIFY, MICA_RIGHT_SIGNAL, &hn);
		if (rc != MICA_OK)
			return rc;
	}
	unroute(q);
	if (!hn)
		return MICA_OK;
	kobj_ref(hn->obj);
	q->ntf = (struct notification *)hn->obj;
	q->bits = hn->badge ? hn->badge : 1;
	pic_unmask(q->line);
	return MICA_OK;
}

/*
 * irq_ack(irq): the driver has served the interrupt: unmask the line.
 * Errors: MICA_EBADH, MICA_ERIGHTS (no MANAGE), MICA_EINVAL (the line has
 * not interrupted since it was routed or last acknowledged).
 */
int64_t irq_sys_ack(const struct syscall_args *s)
{
	const struct handle *hq;

	int rc = syscall_handle(s->a[0], MICA_OBJ_IRQ, MICA_RIGHT_MANAGE, &hq);
	if (rc != MICA_OK)
		return rc;
	struct irq *q = (struct irq *)hq->obj;
	if (!q->pending)
		return MICA_EINVAL;
	q->pending = false;
	pic_unmask(q->line);
	return MICA_OK;
}
