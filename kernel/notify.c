/*
 * Notifications (include/mica/notify.h): a word of bits that signal ORs
 * into and wait takes out. signal never blocks: it only sets bits and, if
 * a thread waits, hands it the word, so a signal is never lost whether it
 * comes before the wait or during it (the kernel is not preemptible: the
 * check for bits and the block are one step). Several signals before a
 * wait merge into one word.
 *
 * A thread waiting here is blocked with ipc_state IPC_NOTIFY_WAIT and
 * ntf_wait set; ipc_detach takes it out if it ends. A bound notification
 * (notify_bind) is also delivered to its thread's receive: ipc.c asks
 * notify_take_bound before a receive blocks, and a signal while the thread
 * is blocked receiving wakes it through ipc_deliver_bits.
 */
#include <mica/error.h>
#include <mica/handle.h>
#include <mica/notify.h>
#include <mica/time.h>
#include "aspace.h"
#include "frame.h"
#include "ipc.h"
#include "lib/string.h"
#include "notify.h"
#include "phys.h"
#include "sched.h"
#include "syscall.h"
#include "timer.h"

/* Wake t, blocked in notify_wait, with `result` (the word, or an error). */
static void wake_waiter(struct notification *n, int64_t result)
{
	struct thread *t = n->waiters;

	n->waiters = t->ipc_next;
	if (!n->waiters)
		n->waiters_tail = NULL;
	t->ipc_next = NULL;
	t->ntf_wait = NULL;
	ipc_wake(t, result);
}

/*
 * OR bits into n's word, then give the word to the first waiter, or else
 * to the bound thread if it is blocked receiving. From a system call or
 * an interrupt (irq.c).
 */
void notify_signal(struct notification *n, uint64_t bits)
{
	n->word |= bits & MICA_NOTIFY_BITS;
	if (!n->word)
		return;
	if (n->waiters) {
		uint64_t w = n->word;

		n->word = 0;
		wake_waiter(n, (int64_t)w);
	} else if (n->bound && ipc_deliver_bits(n->bound, n->word)) {
		n->word = 0;
	}
}

/* The bits of t's bound notification, taken (0 if none are set or none is bound). */
uint64_t notify_take_bound(struct thread *t)
{
	struct notification *n = t->bound_ntf;
	uint64_t w;

	if (!n || !n->word)
		return 0;
	w = n->word;
	n->word = 0;
	return w;
}

/* Drop t's binding (the reference it held). */
static void unbind(struct thread *t)
{
	struct notification *n = t->bound_ntf;

	t->bound_ntf = NULL;
	n->bound = NULL;
	kobj_unref(&n->obj);
}

/* t leaves the wait queue it is in (if any): it ends, or its timeout passed. */
void notify_unwait(struct thread *t)
{
	struct notification *n = t->ntf_wait;

	if (n) {
		struct thread *prev = NULL;

		for (struct thread *q = n->waiters; q; prev = q, q = q->ipc_next) {
			if (q != t)
				continue;
			if (prev)
				prev->ipc_next = t->ipc_next;
			else
				n->waiters = t->ipc_next;
			if (n->waiters_tail == t)
				n->waiters_tail = prev;
			break;
		}
		t->ipc_next = NULL;
		t->ntf_wait = NULL;
	}
}

/*
 * t is ending: out of the wait queue it is in, and its binding dropped.
 * (ipc_detach calls this for every ending thread.)
 */
void notify_detach(struct thread *t)
{
	notify_unwait(t);
	if (t->bound_ntf)
		unbind(t);
}

/*
 * The last reference is gone (every handle closed; no thread bound, no
 * interrupt routed here): whoever still waits hears MICA_EPEER.
 */
void notify_release(struct notification *n)
{
	while (n->waiters)
		wake_waiter(n, MICA_EPEER);
	(void)frame_free(virt_to_phys(n), 1);
}

/* The notification behind handle h of the current thread, with `right`. */
static int ntf_get(uint64_t h, uint32_t right, struct notification **n, uint64_t *badge)
{
	const struct handle *hd;
	int rc = syscall_handle(h, MICA_OBJ_NOTIFY, right, &hd);

	if (rc != MICA_OK)
		return rc;
	*n = (struct notification *)hd->obj;
	if (badge)
		*badge = hd->badge;
	return MICA_OK;
}

/* notify_create(): a new notification, word 0. Errors: MICA_ENOMEM (no frame, a full table). */
int64_t notify_sys_create(const struct syscall_args *s)
{
	struct handle_table *table = &sched_current()->as->handles;
	struct notification *n;
	mica_handle_t h;
	paddr_t pa;

	(void)s;
	if (handle_room(table) != MICA_OK)
		return MICA_ENOMEM;
	if (frame_alloc(&pa) != MICA_OK) {
		handle_room_undo(table);
		return MICA_ENOMEM;
	}
	n = phys_to_virt(pa);
	memset(n, 0, sizeof(*n));
	kobj_init(&n->obj, MICA_OBJ_NOTIFY);
	(void)handle_alloc(table, &n->obj, MICA_RIGHT_SIGNAL | MICA_RIGHT_WAIT | MICA_RIGHT_COPY, 0,
	                   &h);
	kobj_unref(&n->obj); /* the handle holds it now */
	return h;
}

/*
 * notify_signal(n, bits): OR bits (a badged handle: its badge) into the
 * word. Errors: MICA_EBADH, MICA_ERIGHTS (no SIGNAL), MICA_EINVAL (an
 * unbadged handle with bits 0 or past MICA_NOTIFY_BITS).
 */
int64_t notify_sys_signal(const struct syscall_args *s)
{
	struct notification *n;
	uint64_t badge, bits = s->a[1];

	int rc = ntf_get(s->a[0], MICA_RIGHT_SIGNAL, &n, &badge);
	if (rc != MICA_OK)
		return rc;
	if (badge)
		bits = badge;
	else if (bits == 0 || (bits & ~MICA_NOTIFY_BITS))
		return MICA_EINVAL;
	notify_signal(n, bits);
	return MICA_OK;
}

/*
 * notify_wait(n, flags, timeout_ns): the word once some bit is set,
 * cleared. With MICA_NOTIFY_TIMEOUT in flags the wait lasts at most
 * timeout_ns, as an IPC descriptor's (include/mica/time.h). Errors:
 * MICA_EINVAL (an unknown flag, a timeout over MICA_TIMEOUT_MAX),
 * MICA_EBADH, MICA_ERIGHTS (no WAIT), MICA_EPEER (the notification went
 * away while waiting: its last handle was closed), MICA_ETIMEDOUT (no bit
 * was set in time; at once for a timeout of 0 with none set).
 */
int64_t notify_sys_wait(const struct syscall_args *s)
{
	struct thread *t = sched_current();
	struct notification *n;
	uint64_t flags = s->a[1], timeout = s->a[2];

	/* The arguments first: a bad one fails whatever the word holds. */
	if (flags & ~(uint64_t)MICA_NOTIFY_TIMEOUT)
		return MICA_EINVAL;
	if ((flags & MICA_NOTIFY_TIMEOUT) && timeout > MICA_TIMEOUT_MAX)
		return MICA_EINVAL;
	int rc = ntf_get(s->a[0], MICA_RIGHT_WAIT, &n, NULL);
	if (rc != MICA_OK)
		return rc;
	if (n->word) {
		uint64_t w = n->word;

		n->word = 0;
		return (int64_t)w;
	}
	if ((flags & MICA_NOTIFY_TIMEOUT) && timeout == 0)
		return MICA_ETIMEDOUT;
	t->ntf_wait = n;
	t->ipc_state = IPC_NOTIFY_WAIT;
	t->ipc_next = NULL;
	if (n->waiters_tail)
		n->waiters_tail->ipc_next = t;
	else
		n->waiters = t;
	n->waiters_tail = t;
	if (flags & MICA_NOTIFY_TIMEOUT)
		timer_arm(t, timer_deadline(timeout)); /* ipc_expire takes us out */
	sched_block();
	return t->ipc_result;
}

/* notify_poll(n): the word (0 if no bit is set), cleared. Errors: MICA_EBADH, MICA_ERIGHTS. */
int64_t notify_sys_poll(const struct syscall_args *s)
{
	struct notification *n;
	uint64_t w;

	int rc = ntf_get(s->a[0], MICA_RIGHT_WAIT, &n, NULL);
	if (rc != MICA_OK)
		return rc;
	w = n->word;
	n->word = 0;
	return (int64_t)w;
}

/*
 * notify_bind(n): bind n to the calling thread's receive (MICA_HANDLE_NONE:
 * drop the binding it has). Errors: MICA_EBADH, MICA_ERIGHTS (no WAIT),
 * MICA_EBUSY (n is bound to a thread, or this thread to another
 * notification: unbind first).
 */
int64_t notify_sys_bind(const struct syscall_args *s)
{
	struct thread *t = sched_current();
	struct notification *n;

	if ((int64_t)s->a[0] == MICA_HANDLE_NONE) {
		if (t->bound_ntf)
			unbind(t);
		return MICA_OK;
	}
	int rc = ntf_get(s->a[0], MICA_RIGHT_WAIT, &n, NULL);
	if (rc != MICA_OK)
		return rc;
	if (n->bound == t)
		return MICA_OK;
	if (n->bound || t->bound_ntf)
		return MICA_EBUSY;
	kobj_ref(&n->obj);
	n->bound = t;
	t->bound_ntf = n;
	return MICA_OK;
}
