/*
 * Endpoints and synchronous rendezvous IPC.
 *
 * A message is the label and eight words in the sender's saved registers,
 * copied straight into the receiver's saved registers when both sides are
 * there; the optional buffer and handle are described by a struct
 * mica_ipc_extra in each side's memory. Whoever arrives second does the
 * transfer and wakes the other. A thread waiting in the kernel is not on a
 * run queue; the waker leaves its result in ipc_result (the registers of a
 * blocked thread are its message, and the dispatcher writes RAX when the
 * thread's own call returns).
 *
 * Nothing here can half-complete: each call validates its handle and its
 * descriptor before it queues, transfers or wakes anything. The kernel is
 * not preemptible, so the queues need no lock.
 */
#include <mica/error.h>
#include <mica/handle.h>
#include <mica/ipc.h>
#include <mica/layout.h>
#include "aspace.h"
#include "frame.h"
#include "ipc.h"
#include "lib/string.h"
#include "phys.h"
#include "sched.h"
#include "usercopy.h"

static uint8_t bounce[MICA_MSG_BUF_MAX]; /* one CPU, never preempted: one buffer */

/* ---- endpoints ---- */

/* Create an endpoint with no references yet. Errors: MICA_ENOMEM. */
int endpoint_create(struct endpoint **out)
{
	paddr_t pa;

	if (frame_alloc(&pa) != MICA_OK)
		return MICA_ENOMEM;
	struct endpoint *ep = phys_to_virt(pa);
	memset(ep, 0, sizeof(*ep));
	ep->obj.type = MICA_OBJ_ENDPOINT;
	*out = ep;
	return MICA_OK;
}

static void push(struct thread **head, struct thread **tail, struct thread *t)
{
	t->ipc_next = NULL;
	if (*tail)
		(*tail)->ipc_next = t;
	else
		*head = t;
	*tail = t;
}

static struct thread *pop(struct thread **head, struct thread **tail)
{
	struct thread *t = *head;

	if (t) {
		*head = t->ipc_next;
		if (!*head)
			*tail = NULL;
		t->ipc_next = NULL;
	}
	return t;
}

/* Wake t, blocked in IPC, with `result` as its call's return value. */
static void wake(struct thread *t, int64_t result)
{
	t->ipc_state = IPC_NONE;
	t->ipc_ep = NULL;
	t->ipc_result = result;
	sched_wake(t);
}

/* The last handle is gone: everyone waiting on it learns the peer is gone. */
void endpoint_release(struct endpoint *ep)
{
	struct thread *t;

	while ((t = pop(&ep->senders, &ep->senders_tail)))
		wake(t, MICA_EPEER);
	while ((t = pop(&ep->receivers, &ep->receivers_tail)))
		wake(t, MICA_EPEER);
	(void)frame_free(virt_to_phys(ep), 1);
}

/* ---- descriptors ---- */

struct extra {
	vaddr_t at; /* 0: the thread gave none */
	struct mica_ipc_extra e;
};

/* Read t's descriptor (RBX) from its address space. Errors: MICA_EFAULT. */
static int extra_read(struct thread *t, struct extra *x)
{
	x->at = syscall_abi_ipc_extra(thread_frame(t));
	if (!x->at)
		return MICA_OK;
	return usercopy_from_root(t->as->root, &x->e, x->at, sizeof(x->e));
}

/*
 * Check the current thread's descriptor: the send part if `sending`, the
 * receive part if `receiving`. Errors: MICA_EFAULT, MICA_EINVAL (a length
 * past MICA_MSG_BUF_MAX, an unknown transfer mode), MICA_EBADH and
 * MICA_ERIGHTS (the handle to pass).
 */
static int extra_check(struct thread *t, struct extra *x, bool sending, bool receiving)
{
	int rc = extra_read(t, x);

	if (rc != MICA_OK || !x->at)
		return rc;
	if (sending) {
		/* The buffer: bounded and readable. */
		if (x->e.send_len > MICA_MSG_BUF_MAX)
			return MICA_EINVAL;
		if (x->e.send_len &&
		    usercopy_check(t->as->root, x->e.send_buf, x->e.send_len, false) != MICA_OK)
			return MICA_EFAULT;
		/* The handle: held, and copyable if it is to be copied. */
		if (x->e.send_handle != MICA_HANDLE_NONE) {
			if (x->e.send_xfer != MICA_XFER_COPY && x->e.send_xfer != MICA_XFER_MOVE)
				return MICA_EINVAL;
			rc = handle_get(&t->as->handles, x->e.send_handle, MICA_OBJ_NONE,
			                x->e.send_xfer == MICA_XFER_COPY ? MICA_RIGHT_COPY : 0,
			                NULL);
			if (rc != MICA_OK)
				return rc;
		}
	}
	if (receiving) {
		/* The receive buffer: bounded and writable. */
		if (x->e.recv_cap > MICA_MSG_BUF_MAX)
			return MICA_EINVAL;
		if (x->e.recv_cap &&
		    usercopy_check(t->as->root, x->e.recv_buf, x->e.recv_cap, true) != MICA_OK)
			return MICA_EFAULT;
	}
	return MICA_OK;
}

/*
 * Move a message from s to r: registers, then the buffer and the handle
 * if r gave a descriptor to take them. Errors (s's side only, before r is
 * touched): MICA_EFAULT if s's buffer or descriptor went away meanwhile.
 */
static int transfer(struct thread *s, struct thread *r, uint64_t badge)
{
	struct extra xs, xr;
	struct ipc_regs m;

	/* The sender's side, re-read: it may have changed while s waited. */
	if (extra_read(s, &xs) != MICA_OK)
		return MICA_EFAULT;
	if (xs.at && xs.e.send_len &&
	    (xs.e.send_len > MICA_MSG_BUF_MAX ||
	     usercopy_from_root(s->as->root, bounce, xs.e.send_buf, xs.e.send_len) != MICA_OK))
		return MICA_EFAULT;

	syscall_abi_ipc_get(thread_frame(s), &m);
	syscall_abi_ipc_set(thread_frame(r), &m, badge);

	/* The receiver's side: what it did not ask for is not delivered. */
	if (extra_read(r, &xr) != MICA_OK || !xr.at)
		return MICA_OK;
	xr.e.recv_len = xs.at ? xs.e.send_len : 0;
	xr.e.recv_handle = MICA_HANDLE_NONE;
	if (xr.e.recv_len && xr.e.recv_cap)
		(void)usercopy_to_root(r->as->root, xr.e.recv_buf, bounce,
		                       MIN(xr.e.recv_len, xr.e.recv_cap));
	if (xs.at && xs.e.send_handle != MICA_HANDLE_NONE) {
		mica_handle_t h;
		int rc =
		    xs.e.send_xfer == MICA_XFER_MOVE
		        ? handle_move(&s->as->handles, xs.e.send_handle, &r->as->handles, &h)
		        : handle_copy(&s->as->handles, xs.e.send_handle, &r->as->handles, ~0u, &h);
		/* A full table or a handle gone meanwhile: delivered without it. */
		if (rc == MICA_OK)
			xr.e.recv_handle = h;
	}
	(void)usercopy_to_root(r->as->root, xr.at, &xr.e, sizeof(xr.e));
	return MICA_OK;
}

/* r took a call from s: s now waits for r's reply (r owes none: see receive). */
static void await_reply(struct thread *s, struct thread *r)
{
	s->ipc_state = IPC_AWAIT_REPLY;
	s->replier = r;
	r->reply_to = s;
}

/* Look up the endpoint behind handle h of the current thread with `right`. */
static int endpoint_get(struct thread *t, int64_t h, uint32_t right, struct endpoint **ep,
                        uint64_t *badge)
{
	const struct handle *hd;

	if (h < INT32_MIN || h > INT32_MAX)
		return MICA_EBADH;
	int rc = handle_get(&t->as->handles, (mica_handle_t)h, MICA_OBJ_ENDPOINT, right, &hd);
	if (rc != MICA_OK)
		return rc;
	*ep = (struct endpoint *)hd->obj;
	*badge = hd->badge;
	return MICA_OK;
}

/* ---- the calls ---- */

/*
 * send, try_send and call on the endpoint in RDI. Errors: MICA_EBADH,
 * MICA_ERIGHTS (no send right), the descriptor's errors (extra_check),
 * MICA_EAGAIN (try_send with no receiver waiting), MICA_EPEER (the endpoint
 * was closed while waiting, or the server died before replying).
 */
int64_t ipc_send(const struct syscall_args *s, bool block, bool call)
{
	struct thread *t = sched_current();
	struct endpoint *ep;
	struct extra x;
	uint64_t badge;

	/* The endpoint, with the send right; the descriptor (and its receive
	 * part for a call, which gets the reply). */
	int rc = endpoint_get(t, (int64_t)s->a[0], MICA_RIGHT_SEND, &ep, &badge);
	if (rc != MICA_OK)
		return rc;
	rc = extra_check(t, &x, true, call);
	if (rc != MICA_OK)
		return rc;

	struct thread *r = ep->receivers;
	if (r) {
		rc = transfer(t, r, badge);
		if (rc != MICA_OK)
			return rc;
		(void)pop(&ep->receivers, &ep->receivers_tail);
		wake(r, MICA_OK);
		if (!call)
			return MICA_OK;
		await_reply(t, r);
		sched_block();
		return t->ipc_result;
	}
	if (!block)
		return MICA_EAGAIN;
	t->ipc_badge = badge;
	t->ipc_call = call;
	t->ipc_ep = ep;
	t->ipc_state = IPC_SENDING;
	push(&ep->senders, &ep->senders_tail, t);
	sched_block();
	return t->ipc_result;
}

/* Receive on ep for the current thread, its descriptor already checked. */
static int64_t receive(struct thread *t, struct endpoint *ep, bool block)
{
	struct thread *s;

	/* A server that receives again without replying abandons its caller. */
	if (t->reply_to) {
		struct thread *c = t->reply_to;

		t->reply_to = NULL;
		c->replier = NULL;
		wake(c, MICA_EPEER);
	}

	while ((s = pop(&ep->senders, &ep->senders_tail))) {
		int rc = transfer(s, t, s->ipc_badge);

		if (rc != MICA_OK) {
			wake(s, rc); /* the sender's fault: it hears, we take the next */
			continue;
		}
		if (s->ipc_call) {
			s->ipc_ep = NULL;
			await_reply(s, t);
		} else {
			wake(s, MICA_OK);
		}
		return MICA_OK;
	}
	if (!block)
		return MICA_EAGAIN;
	t->ipc_ep = ep;
	t->ipc_state = IPC_RECEIVING;
	push(&ep->receivers, &ep->receivers_tail, t);
	sched_block();
	return t->ipc_result;
}

/*
 * recv and try_recv on the endpoint in RDI. Errors: MICA_EBADH,
 * MICA_ERIGHTS (no receive right), the descriptor's errors, MICA_EAGAIN,
 * MICA_EPEER (the endpoint was closed while waiting).
 */
int64_t ipc_recv(const struct syscall_args *s, bool block)
{
	struct thread *t = sched_current();
	struct endpoint *ep;
	struct extra x;
	uint64_t badge;

	int rc = endpoint_get(t, (int64_t)s->a[0], MICA_RIGHT_RECV, &ep, &badge);
	if (rc != MICA_OK)
		return rc;
	rc = extra_check(t, &x, false, true);
	if (rc != MICA_OK)
		return rc;
	return receive(t, ep, block);
}

/*
 * reply_recv: answer the caller this thread owes a reply (if any) with the
 * message in its registers, then receive on the endpoint in RDI. Everything
 * is checked before the reply goes out. Errors: as recv, plus the send
 * part's descriptor errors.
 */
int64_t ipc_reply_recv(const struct syscall_args *s)
{
	struct thread *t = sched_current();
	struct endpoint *ep;
	struct extra x;
	uint64_t badge;

	int rc = endpoint_get(t, (int64_t)s->a[0], MICA_RIGHT_RECV, &ep, &badge);
	if (rc != MICA_OK)
		return rc;
	rc = extra_check(t, &x, true, true);
	if (rc != MICA_OK)
		return rc;
	struct thread *c = t->reply_to;
	if (c) {
		t->reply_to = NULL;
		c->replier = NULL;
		if (transfer(t, c, 0) == MICA_OK)
			wake(c, MICA_OK);
		else
			wake(c, MICA_EPEER); /* our reply went bad: the caller must not hang */
	}
	return receive(t, ep, true);
}

/*
 * t is dying (it is the running thread). A caller waiting for t's reply
 * is woken with MICA_EPEER; t itself is in no queue, since it is running.
 */
void ipc_thread_dead(struct thread *t)
{
	if (t->reply_to) {
		t->reply_to->replier = NULL;
		wake(t->reply_to, MICA_EPEER);
		t->reply_to = NULL;
	}
}
