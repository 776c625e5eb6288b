/*
 * The IPC fast path: call and reply_recv when the message is registers
 * only, on both sides. This is the round trip of every client and server,
 * so it gets its own short code: one handle lookup, the nine message
 * registers copied from frame to frame, the reply link set, and a direct
 * switch to the partner when the scheduler would pick it anyway
 * (sched_handoff), without touching the run queues.
 *
 * Anything unusual takes the general path in ipc.c, which gives the same
 * result: a descriptor (RBX) on either side, a kernel label, a closed
 * endpoint, nobody waiting, a queued sender, a partner that is a kernel
 * message (page fault), a reply to a caller that died. A thread blocked
 * here is blocked exactly as one blocked in ipc.c (in an endpoint queue or
 * awaiting a reply, resumed with ipc_result), so the two paths mix freely.
 */
#include <mica/error.h>
#include <mica/fault.h>
#include <mica/handle.h>
#include "fastpath.h"
#include "aspace.h"
#include "handle.h"
#include "ipc.h"
#include "sched.h"
#include "syscall.h"

/* The endpoint behind handle value h of thread t, with `right`; NULL if not so. */
static struct endpoint *endpoint_of(struct thread *t, uint64_t h, uint32_t right, uint64_t *badge)
{
	const struct handle *hd = handle_peek(&t->as->handles, h, MICA_OBJ_ENDPOINT, right);

	if (!hd)
		return NULL;
	*badge = hd->badge;
	return (struct endpoint *)hd->obj;
}

/* Copy the message registers of `from` to `to`, with the badge in RDI. */
static void move_regs(const struct trap_frame *from, struct trap_frame *to, uint64_t badge)
{
	struct ipc_regs m;

	syscall_abi_ipc_get(from, &m);
	syscall_abi_ipc_set(to, &m, badge);
}

/* The current thread t blocks; `next`, its partner, now runnable, goes first if it may. */
static int64_t switch_to_partner(struct thread *t, struct thread *next)
{
	next->ipc_result = MICA_OK;
	if (sched_can_handoff(next)) {
		sched_handoff(next);
	} else {
		sched_wake(next);
		sched_block();
	}
	return t->ipc_result;
}

/*
 * call with registers only, to an endpoint where a receiver without a
 * descriptor waits. Returns false, having changed nothing, if the general
 * path must do it.
 */
bool fastpath_call(const struct syscall_args *s, int64_t *ret)
{
	struct thread *t = sched_current();
	uint64_t badge;

	/* Registers only, and a label user code may send. */
	if (syscall_abi_ipc_extra(s->frame) || syscall_abi_ipc_label(s->frame) >= MICA_LABEL_KERNEL)
		return false;
	/* An endpoint we may send to, with a receiver that wants registers only. */
	struct endpoint *ep = endpoint_of(t, s->a[0], MICA_RIGHT_SEND, &badge);
	if (!ep || ep->closed || !ep->receivers)
		return false;
	struct thread *r = ep->receivers;
	if (syscall_abi_ipc_extra(thread_frame(r)))
		return false;

	/* Deliver, and wait for the reply: r owes it (r owed none while it waited). */
	ep->receivers = r->ipc_next;
	if (!ep->receivers)
		ep->receivers_tail = NULL;
	r->ipc_next = NULL;
	r->ipc_ep = NULL;
	r->ipc_state = IPC_NONE;
	move_regs(s->frame, thread_frame(r), badge);
	t->ipc_state = IPC_AWAIT_REPLY;
	t->replier = r;
	r->reply_to = t;
	*ret = switch_to_partner(t, r);
	return true;
}

/*
 * reply_recv with registers only: the reply goes to a caller that waits
 * for it without a descriptor, and no sender is queued on the endpoint,
 * so this thread goes on to wait there. Returns false, having changed
 * nothing, if the general path must do it.
 */
bool fastpath_reply_recv(const struct syscall_args *s, int64_t *ret)
{
	struct thread *t = sched_current();
	struct thread *c = t->reply_to;
	uint64_t badge;

	/* A live user caller to answer, registers only on both sides. */
	if (!c || c->ipc_kernel || syscall_abi_ipc_extra(s->frame) ||
	    syscall_abi_ipc_extra(thread_frame(c)) ||
	    syscall_abi_ipc_label(s->frame) >= MICA_LABEL_KERNEL)
		return false;
	/* An endpoint we may receive on, with nobody queued to send (and no
	 * bound notification, whose bits the general path checks first). */
	struct endpoint *ep = endpoint_of(t, s->a[0], MICA_RIGHT_RECV, &badge);
	if (!ep || ep->closed || ep->senders || t->bound_ntf)
		return false;

	/* The reply: the caller's registers get ours, with no badge. */
	move_regs(s->frame, thread_frame(c), 0);
	t->reply_to = NULL;
	c->replier = NULL;
	c->ipc_state = IPC_NONE;
	/* Then wait on the endpoint, as receive() does. */
	t->ipc_ep = ep;
	t->ipc_state = IPC_RECEIVING;
	t->ipc_next = NULL;
	if (ep->receivers_tail)
		ep->receivers_tail->ipc_next = t;
	else
		ep->receivers = t;
	ep->receivers_tail = t;
	*ret = switch_to_partner(t, c);
	return true;
}
