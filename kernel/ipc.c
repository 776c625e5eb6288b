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
 * The kernel sends two kinds of message on a thread's behalf (fault.h):
 * a page fault, as a call to the thread's pager, and an exit notice, as a
 * send to its supervisor. The thread itself is the sender, with the message
 * in kmsg instead of its registers; a zombie (an ended thread) waiting on
 * its supervisor is buried once the notice is taken. So the kernel needs
 * no message queue of its own, and nothing is lost if nobody is listening
 * yet.
 *
 * A descriptor may bound the wait (MICA_IPC_TIMEOUT): the waiting thread
 * is also in the timer queue (timer.c) until it is woken, whichever comes
 * first: a partner's wake cancels the timer, and an expiry takes the
 * thread out of its wait (ipc_expire) before anyone else can see it. The
 * kernel is not preemptible, so the two cannot overlap: a message arriving
 * at the deadline's tick either was delivered (and the timer cancelled)
 * or finds the thread gone. A sleep is a wait on nothing, ended only by
 * its deadline.
 *
 * Nothing here can half-complete: each call validates its handle and its
 * descriptor before it queues, transfers or wakes anything. The kernel is
 * not preemptible, so the queues need no lock.
 */
#include <stddef.h>
#include <mica/error.h>
#include <mica/fault.h>
#include <mica/handle.h>
#include <mica/ipc.h>
#include <mica/layout.h>
#include <mica/notify.h>
#include <mica/time.h>
#include "aspace.h"
#include "ipc.h"
#include "ipcbuf.h"
#include "lib/string.h"
#include "notify.h"
#include "phys.h"
#include "sched.h"
#include "slab.h"
#include "syscall.h"
#include "timer.h"
#include "trace.h"
#include "usercopy.h"

/* Endpoints are carved from one-frame slabs (slab.c): a few dozen share a frame. */
static struct slab_cache endpoint_cache = SLAB_CACHE("endpoint", sizeof(struct endpoint), 1);
_Static_assert(sizeof(struct endpoint) <= 128, "an endpoint costs at most 128 bytes");

/* ---- endpoints ---- */

/* Create an endpoint with one reference, the caller's. Errors: MICA_ENOMEM. */
int endpoint_create(struct endpoint **out)
{
	struct endpoint *ep = slab_alloc(&endpoint_cache);

	if (!ep)
		return MICA_ENOMEM;
	memset(ep, 0, sizeof(*ep));
	kobj_init(&ep->obj, MICA_OBJ_ENDPOINT);
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

/* Take t out of the queue at *head (if it is there). */
static void unlink(struct thread **head, struct thread **tail, struct thread *t)
{
	struct thread *prev = NULL;

	for (struct thread *q = *head; q; prev = q, q = q->ipc_next) {
		if (q != t)
			continue;
		if (prev)
			prev->ipc_next = t->ipc_next;
		else
			*head = t->ipc_next;
		if (*tail == t)
			*tail = prev;
		t->ipc_next = NULL;
		return;
	}
}

/*
 * Wake t, blocked in IPC, with `result` as its call's return value. A
 * zombie's notice is done with (taken, or nobody can take it): bury it.
 */
static void wake(struct thread *t, int64_t result)
{
	timer_cancel(t); /* woken before its deadline (if it had one) */
	t->ipc_state = IPC_NONE;
	t->ipc_ep = NULL;
	t->ipc_result = result;
	if (t->state == THREAD_ZOMBIE)
		sched_bury(t);
	else
		sched_wake(t);
}

/* wake, for notify.c's waiters. */
void ipc_wake(struct thread *t, int64_t result)
{
	wake(t, result);
}

/* Nobody can receive on ep again: everyone waiting learns the peer is gone. */
static void endpoint_close(struct endpoint *ep)
{
	struct thread *t;

	ep->closed = true;
	while ((t = pop(&ep->senders, &ep->senders_tail)))
		wake(t, MICA_EPEER);
	while ((t = pop(&ep->receivers, &ep->receivers_tail)))
		wake(t, MICA_EPEER);
}

/* A thread names ep as its pager or supervisor: a reference, but not a receiver. */
void endpoint_hold(struct endpoint *ep)
{
	kobj_ref(&ep->obj);
}

void endpoint_drop(struct endpoint *ep)
{
	kobj_unref(&ep->obj);
}

/*
 * A reference went. With the last receive handle the endpoint dies: send
 * handles and threads naming it may keep it allocated, but nobody can
 * ever receive on it again, so its queued senders, and every later send
 * or call, get MICA_EPEER instead of waiting for ever.
 */
void endpoint_unreferenced(struct endpoint *ep)
{
	if (!ep->closed && ep->obj.recv_handles == 0)
		endpoint_close(ep);
}

/* The last reference is gone. */
void endpoint_release(struct endpoint *ep)
{
	endpoint_close(ep);
	slab_free(&endpoint_cache, ep);
}

/* ---- descriptors ---- */

/*
 * A thread's descriptor as this file uses it: a copy, whether the thread
 * gave a struct mica_ipc_extra (RBX its address) or uses its IPC buffer
 * (RBX MICA_IPC_BUFFER: read from the buffer's head, with both buffers
 * the buffer's data).
 */
struct extra {
	vaddr_t at;   /* 0: the thread gave none; else the descriptor, or the IPC buffer's head */
	vaddr_t out;  /* where recv_len and recv_handle go back */
	uint32_t max; /* the most it may send: MICA_MSG_BUF_MAX, or MICA_IPC_BUFFER_DATA */
	struct mica_ipc_extra e;
};

/*
 * Every user access of one IPC operation goes through a translation cache
 * uc (usercopy.h): the running thread's ipc_tlb, kept across its calls and
 * made current (usercopy_cache_sync) at the start of each, so a user page
 * is walked once until some mapping goes. The operation changes no page
 * table while it uses it.
 */

/*
 * t's descriptor from its IPC buffer's head, as a descriptor (ipcbuf.c).
 * Errors: MICA_EINVAL (t registered no buffer), MICA_EFAULT (its page is
 * not mapped user-writable now).
 */
static int extra_from_buffer(struct thread *t, struct extra *x, struct usercopy_cache *uc)
{
	if (!t->ipcbuf)
		return MICA_EINVAL;
	const struct mica_ipc_buffer *b = ipcbuf_get(t, uc);
	if (!b)
		return MICA_EFAULT;
	x->at = t->ipcbuf;
	x->out = t->ipcbuf + offsetof(struct mica_ipc_buffer, recv_len);
	x->max = MICA_IPC_BUFFER_DATA; /* its data only: never a byte past its page */
	x->e.send_buf = x->e.recv_buf = t->ipcbuf + MICA_IPC_BUFFER_HEAD;
	x->e.send_len = b->send_len;
	x->e.send_handle = b->send_handle;
	x->e.send_xfer = b->send_xfer;
	x->e.recv_cap = MICA_IPC_BUFFER_DATA;
	x->e.recv_len = b->recv_len;
	x->e.recv_handle = b->recv_handle;
	x->e.flags = b->flags;
	x->e.timeout_ns = b->timeout_ns;
	return MICA_OK;
}

/*
 * Read t's descriptor (RBX) from its address space. Errors: MICA_EFAULT;
 * MICA_EINVAL (MICA_IPC_BUFFER without a buffer).
 */
static int extra_read(struct thread *t, struct extra *x, struct usercopy_cache *uc)
{
	x->at = syscall_abi_ipc_extra(thread_frame(t));
	if (!x->at)
		return MICA_OK;
	if (x->at == MICA_IPC_BUFFER)
		return extra_from_buffer(t, x, uc);
	x->out = x->at + offsetof(struct mica_ipc_extra, recv_len);
	x->max = MICA_MSG_BUF_MAX;
	return usercopy_from_cached(uc, t->as->root, &x->e, x->at, sizeof(x->e));
}

/*
 * Check the current thread's descriptor: the send part if `sending`, the
 * receive part if `receiving`. Errors: MICA_EFAULT, MICA_EINVAL (a length
 * past MICA_MSG_BUF_MAX, an unknown transfer mode), MICA_EBADH and
 * MICA_ERIGHTS (the handle to pass).
 */
static int extra_check(struct thread *t, struct extra *x, bool sending, bool receiving,
                       struct usercopy_cache *uc)
{
	int rc = extra_read(t, x, uc);

	if (rc != MICA_OK || !x->at)
		return rc;
	if (sending) {
		/* The buffer: bounded and readable. */
		if (x->e.send_len > x->max)
			return MICA_EINVAL;
		if (x->e.send_len && usercopy_check_cached(uc, t->as->root, x->e.send_buf,
		                                           x->e.send_len, false) != MICA_OK)
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
		/* The descriptor itself gets recv_len and recv_handle back. */
		if (usercopy_check_cached(uc, t->as->root, x->at, sizeof(x->e), true) != MICA_OK)
			return MICA_EFAULT;
		/* The receive buffer: bounded and writable. */
		if (x->e.recv_cap > MICA_MSG_BUF_MAX)
			return MICA_EINVAL;
		if (x->e.recv_cap && usercopy_check_cached(uc, t->as->root, x->e.recv_buf,
		                                           x->e.recv_cap, true) != MICA_OK)
			return MICA_EFAULT;
	}
	return MICA_OK;
}

/* How long a call may wait, from its descriptor. */
struct wait {
	bool block;        /* may it wait at all */
	int64_t busy;      /* if not, its result when no partner is there */
	uint64_t deadline; /* the tick it gives up at; 0: no limit */
};

/*
 * Check the wait the current call's descriptor x asks for and fill in w:
 * for ever (no descriptor, or no MICA_IPC_TIMEOUT), a poll (timeout 0,
 * MICA_ETIMEDOUT if nobody is there), or until a deadline. `block` is
 * false for the try_ forms, which never wait (MICA_EAGAIN). Errors:
 * MICA_EINVAL (an unknown flag, a timeout over MICA_TIMEOUT_MAX, or 0 for
 * a call, whose reply needs a wait).
 */
static int wait_check(const struct extra *x, bool block, bool call, struct wait *w)
{
	w->block = block;
	w->busy = MICA_EAGAIN;
	w->deadline = 0;
	if (!x->at)
		return MICA_OK;
	/* Known flags only; a timeout in range, and one a call can keep. */
	if (x->e.flags & ~(uint64_t)MICA_IPC_TIMEOUT)
		return MICA_EINVAL;
	if (!(x->e.flags & MICA_IPC_TIMEOUT))
		return MICA_OK;
	if (x->e.timeout_ns > MICA_TIMEOUT_MAX || (call && x->e.timeout_ns == 0))
		return MICA_EINVAL;
	if (!block)
		return MICA_OK;
	if (x->e.timeout_ns == 0) {
		w->block = false;
		w->busy = MICA_ETIMEDOUT;
	} else {
		w->deadline = timer_deadline(x->e.timeout_ns);
	}
	return MICA_OK;
}

/* The current thread t, queued or awaiting a reply, waits to be woken or for its deadline. */
static int64_t wait_for(struct thread *t, const struct wait *w)
{
	if (w->deadline)
		timer_arm(t, w->deadline);
	sched_block();
	return t->ipc_result;
}

/* Give r its descriptor's two output fields (checked writable just before). */
static void extra_write_back(struct thread *r, const struct extra *x, struct usercopy_cache *uc)
{
	_Static_assert(offsetof(struct mica_ipc_extra, recv_handle) ==
	                   offsetof(struct mica_ipc_extra, recv_len) + sizeof(uint32_t),
	               "recv_len and recv_handle are adjacent");
	(void)usercopy_to_cached(uc, r->as->root, x->out, &x->e.recv_len,
	                         sizeof(uint32_t) + sizeof(int32_t));
}

/*
 * Move a message from s to r: registers, then the buffer and the handle
 * if r gave a descriptor to take them. The buffer goes straight from s's
 * memory to r's (usercopy_between), with no copy in the kernel between. The side that is the
 * running thread passes the descriptor its call has just read and checked (ps or pr); a side that
 * waited is read again, as it may have changed. Errors (s's side only, before r is touched):
 * MICA_EFAULT if s's buffer or descriptor went away meanwhile.
 */
static int transfer(struct thread *s, struct thread *r, uint64_t badge, const struct extra *ps,
                    const struct extra *pr, struct usercopy_cache *uc)
{
	struct extra xs, xr;
	struct ipc_regs m;

	/* The kernel's message for s: registers only. */
	if (s->ipc_kernel) {
		syscall_abi_ipc_set(thread_frame(r), &s->kmsg, badge);
		trace_ipc(s, r);
		vaddr_t at = syscall_abi_ipc_extra(thread_frame(r));
		struct mica_ipc_extra *d = NULL;
		struct mica_ipc_buffer *b = NULL;
		if (at > MICA_IPC_BUFFER)
			d = usercopy_view_ptr(&r->ipc_view[IPC_VIEW_DESC], uc, r->as->root, at,
			                      sizeof(*d), true);
		else if (at)
			b = ipcbuf_get(r, uc);
		if (d) {
			/* The usual case: the descriptor in one page, written in place
			 * (r's view of it: a pager's fault messages find it at once). */
			d->recv_len = 0;
			d->recv_handle = MICA_HANDLE_NONE;
		} else if (b) {
			b->recv_len = 0;
			b->recv_handle = MICA_HANDLE_NONE;
		} else if (extra_read(r, &xr, uc) == MICA_OK && xr.at) {
			xr.e.recv_len = 0;
			xr.e.recv_handle = MICA_HANDLE_NONE;
			extra_write_back(r, &xr, uc);
		}
		return MICA_OK;
	}
	/* The sender's side, re-read if it waited: it may have changed meanwhile. */
	if (ps)
		xs = *ps;
	else if (extra_read(s, &xs, uc) != MICA_OK)
		return MICA_EFAULT;
	if (xs.at && xs.e.send_len &&
	    (xs.e.send_len > xs.max || usercopy_check_cached(uc, s->as->root, xs.e.send_buf,
	                                                     xs.e.send_len, false) != MICA_OK))
		return MICA_EFAULT;

	syscall_abi_ipc_get(thread_frame(s), &m);
	syscall_abi_ipc_set(thread_frame(r), &m, badge);
	trace_ipc(s, r);

	/*
	 * The receiver's side: what it did not ask for is not delivered, nor
	 * is anything if its descriptor cannot take the answer (a sibling
	 * thread unmapped it meanwhile): a handle must never arrive unseen.
	 */
	if (pr)
		xr = *pr; /* checked writable by this very call */
	else if (extra_read(r, &xr, uc) != MICA_OK || !xr.at ||
	         usercopy_check_cached(uc, r->as->root, xr.at, sizeof(xr.e), true) != MICA_OK)
		return MICA_OK;
	if (!xr.at)
		return MICA_OK;
	xr.e.recv_len = xs.at ? xs.e.send_len : 0;
	xr.e.recv_handle = MICA_HANDLE_NONE;
	if (xr.e.recv_len && xr.e.recv_cap &&
	    usercopy_between(uc, r->as->root, xr.e.recv_buf, s->as->root, xs.e.send_buf,
	                     MIN(xr.e.recv_len, xr.e.recv_cap)) != MICA_OK)
		xr.e.recv_len = 0; /* the buffer went away meanwhile: nothing arrived */
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
	extra_write_back(r, &xr, uc);
	return MICA_OK;
}

/* r took a call from s: s now waits for r's reply (r owes none: see receive). */
static void await_reply(struct thread *s, struct thread *r)
{
	s->ipc_state = IPC_AWAIT_REPLY;
	s->replier = r;
	r->reply_to = s;
}

/* The endpoint behind handle h of the current thread, with `right`. */
static int endpoint_get(uint64_t h, uint32_t right, struct endpoint **ep, uint64_t *badge)
{
	const struct handle *hd;
	int rc = syscall_handle(h, MICA_OBJ_ENDPOINT, right, &hd);

	if (rc != MICA_OK)
		return rc;
	*ep = (struct endpoint *)hd->obj;
	*badge = hd->badge;
	return MICA_OK;
}

/* ---- the calls ---- */

/*
 * send, try_send and call on the endpoint in RDI. Errors: MICA_EBADH,
 * MICA_ERIGHTS (no send right), the descriptor's errors (extra_check,
 * wait_check), MICA_EAGAIN (try_send with no receiver waiting),
 * MICA_EPEER (the endpoint is dead: no receive handle is left, before or
 * while waiting; or the server died before replying), MICA_ETIMEDOUT (the
 * descriptor's timeout passed).
 */
int64_t ipc_send(const struct syscall_args *s, bool block, bool call)
{
	struct thread *t = sched_current();
	struct endpoint *ep;
	struct extra x;
	struct wait w;
	uint64_t badge;
	struct usercopy_cache *uc = &t->ipc_tlb;

	usercopy_cache_sync(uc);
	/* The endpoint, with the send right; the descriptor (and its receive
	 * part for a call, which gets the reply) and the wait it allows. */
	int rc = endpoint_get(s->a[0], MICA_RIGHT_SEND, &ep, &badge);
	if (rc != MICA_OK)
		return rc;
	rc = extra_check(t, &x, true, call, uc);
	if (rc == MICA_OK)
		rc = wait_check(&x, block, call, &w);
	if (rc != MICA_OK)
		return rc;
	if (syscall_abi_ipc_label(syscall_abi_frame(s)) >= MICA_LABEL_KERNEL)
		return MICA_EINVAL; /* the kernel's own labels cannot be forged */
	if (ep->closed)
		return MICA_EPEER;

	struct thread *r = ep->receivers;
	if (r) {
		rc = transfer(t, r, badge, &x, NULL, uc);
		if (rc != MICA_OK)
			return rc;
		(void)pop(&ep->receivers, &ep->receivers_tail);
		wake(r, MICA_OK);
		if (!call)
			return MICA_OK;
		await_reply(t, r);
		return wait_for(t, &w);
	}
	if (!w.block)
		return w.busy;
	t->ipc_badge = badge;
	t->ipc_call = call;
	t->ipc_ep = ep;
	t->ipc_state = IPC_SENDING;
	push(&ep->senders, &ep->senders_tail, t);
	return wait_for(t, &w);
}

/*
 * A server that receives a new message, or waits for one, without having
 * replied abandons its caller, who gets MICA_EPEER.
 */
static void abandon(struct thread *t)
{
	struct thread *c = t->reply_to;

	t->reply_lost = false;
	if (c) {
		t->reply_to = NULL;
		c->replier = NULL;
		wake(c, MICA_EPEER);
	}
}

/*
 * r receives its bound notification's bits instead of a message: label
 * MICA_LABEL_NOTIFY, word 0 the bits, badge 0, nothing in its descriptor.
 * x: r's descriptor if r is the running thread (checked by its call), else
 * NULL (read again, and written only if it is still writable).
 */
static void notify_message(struct thread *r, uint64_t bits, const struct extra *x)
{
	struct ipc_regs m = {MICA_LABEL_NOTIFY, {bits, 0, 0, 0, 0, 0, 0, 0}};
	struct usercopy_cache uc; /* r's own accesses (its root is in each slot) */
	struct extra xr;

	usercopy_cache_init(&uc);
	syscall_abi_ipc_set(thread_frame(r), &m, 0);
	if (x)
		xr = *x;
	else if (extra_read(r, &xr, &uc) != MICA_OK || !xr.at ||
	         usercopy_check(r->as->root, xr.at, sizeof(xr.e), true) != MICA_OK)
		return;
	if (!xr.at)
		return;
	xr.e.recv_len = 0;
	xr.e.recv_handle = MICA_HANDLE_NONE;
	extra_write_back(r, &xr, &uc);
}

/*
 * A bound notification of t was signalled (notify.c): if t is blocked
 * receiving, it leaves the endpoint's queue with the bits as its message
 * and is woken; returns whether it was.
 */
bool ipc_deliver_bits(struct thread *t, uint64_t bits)
{
	if (t->ipc_state != IPC_RECEIVING)
		return false;
	unlink(&t->ipc_ep->receivers, &t->ipc_ep->receivers_tail, t);
	notify_message(t, bits, NULL);
	wake(t, MICA_OK);
	return true;
}

/* Receive on ep for the current thread, its descriptor x already read and checked. */
static int64_t receive(struct thread *t, struct endpoint *ep, const struct wait *w,
                       const struct extra *x, struct usercopy_cache *uc)
{
	struct thread *s;
	uint64_t bits = notify_take_bound(t);

	/* Bits of a bound notification come before any message (notify.h). */
	if (bits) {
		abandon(t);
		notify_message(t, bits, x);
		return MICA_OK;
	}
	while ((s = pop(&ep->senders, &ep->senders_tail))) {
		int rc = transfer(s, t, s->ipc_badge, NULL, x, uc);

		if (rc != MICA_OK) {
			wake(s, rc); /* the sender's fault: it hears, we take the next */
			continue;
		}
		abandon(t);
		if (s->ipc_call) {
			s->ipc_ep = NULL;
			await_reply(s, t);
		} else {
			wake(s, MICA_OK);
		}
		return MICA_OK;
	}
	if (!w->block)
		return w->busy;
	if (ep->closed)
		return MICA_EPEER;
	abandon(t);
	t->ipc_ep = ep;
	t->ipc_state = IPC_RECEIVING;
	push(&ep->receivers, &ep->receivers_tail, t);
	return wait_for(t, w);
}

/*
 * recv and try_recv on the endpoint in RDI. Errors: MICA_EBADH,
 * MICA_ERIGHTS (no receive right), the descriptor's errors, MICA_EAGAIN,
 * MICA_EPEER (the endpoint was closed while waiting), MICA_ETIMEDOUT.
 */
int64_t ipc_recv(const struct syscall_args *s, bool block)
{
	struct thread *t = sched_current();
	struct endpoint *ep;
	struct extra x;
	struct wait w;
	uint64_t badge;
	struct usercopy_cache *uc = &t->ipc_tlb;

	usercopy_cache_sync(uc);
	int rc = endpoint_get(s->a[0], MICA_RIGHT_RECV, &ep, &badge);
	if (rc != MICA_OK)
		return rc;
	rc = extra_check(t, &x, false, true, uc);
	if (rc == MICA_OK)
		rc = wait_check(&x, block, false, &w);
	if (rc != MICA_OK)
		return rc;
	return receive(t, ep, &w, &x, uc);
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
	struct wait w;
	uint64_t badge;
	struct usercopy_cache *uc = &t->ipc_tlb;

	usercopy_cache_sync(uc);
	int rc = endpoint_get(s->a[0], MICA_RIGHT_RECV, &ep, &badge);
	if (rc != MICA_OK)
		return rc;
	rc = extra_check(t, &x, true, true, uc);
	if (rc == MICA_OK)
		rc = wait_check(&x, true, false, &w);
	if (rc != MICA_OK)
		return rc;
	struct ipc_regs m;
	syscall_abi_ipc_get(syscall_abi_frame(s), &m);
	if (t->reply_to && m.label >= MICA_LABEL_KERNEL)
		return MICA_EINVAL;
	/* The caller died before we answered: say so; the server goes on. */
	if (t->reply_lost) {
		t->reply_lost = false;
		return MICA_EPEER;
	}
	struct thread *c = t->reply_to;
	if (c) {
		t->reply_to = NULL;
		c->replier = NULL;
		if (c->ipc_kernel) {
			/* An answer to a fault: resume the thread, or have it killed. */
			c->kill_code = m.w[0];
			wake(c, m.label == MICA_FAULT_RESUME ? MICA_OK : THREAD_PAGER_KILL);
		} else if (transfer(t, c, 0, &x, NULL, uc) == MICA_OK) {
			wake(c, MICA_OK);
		} else {
			wake(c, MICA_EPEER); /* our reply went bad: the caller must not hang */
		}
	}
	return receive(t, ep, &w, &x, uc);
}

/*
 * t is ending (running or not): take it out of every IPC relation. A
 * queued thread leaves its queue (and a timed one the timer queue); a
 * caller's server learns, at its next reply, that nobody is waiting; a
 * server's caller is woken with MICA_EPEER.
 */
void ipc_detach(struct thread *t)
{
	timer_cancel(t);
	if (t->ipc_state == IPC_SENDING)
		unlink(&t->ipc_ep->senders, &t->ipc_ep->senders_tail, t);
	else if (t->ipc_state == IPC_RECEIVING)
		unlink(&t->ipc_ep->receivers, &t->ipc_ep->receivers_tail, t);
	notify_detach(t); /* a notification wait, a binding */
	if (t->replier) {
		t->replier->reply_to = NULL;
		t->replier->reply_lost = true;
		t->replier = NULL;
	}
	t->ipc_state = IPC_NONE;
	t->ipc_ep = NULL;
	if (t->reply_to) {
		t->reply_to->replier = NULL;
		wake(t->reply_to, MICA_EPEER);
		t->reply_to = NULL;
	}
}

/*
 * Send t's message from the kernel (t->kmsg) on ep with `badge`: to a
 * waiting receiver now, or queued until one comes. Returns true if it was
 * delivered now.
 */
static bool kernel_send(struct thread *t, struct endpoint *ep, uint64_t badge, bool call)
{
	struct thread *r = ep->receivers;

	t->ipc_kernel = true;
	t->ipc_badge = badge;
	t->ipc_call = call;
	if (r) {
		/* r's own pages: its kept cache (every faulting thread reaches the same pager). */
		struct usercopy_cache *uc = &r->ipc_tlb;

		usercopy_cache_sync(uc);
		(void)transfer(t, r, badge, NULL, NULL, uc); /* cannot fail: registers only */
		(void)pop(&ep->receivers, &ep->receivers_tail);
		wake(r, MICA_OK);
		return true;
	}
	t->ipc_ep = ep;
	t->ipc_state = IPC_SENDING;
	push(&ep->senders, &ep->senders_tail, t);
	return false;
}

/* The zombie t's exit notice to its supervisor ep; t is buried once it is taken. */
void ipc_notify(struct thread *t, struct endpoint *ep, uint64_t badge)
{
	if (ep->closed || kernel_send(t, ep, badge, false))
		sched_bury(t);
}

/*
 * The running thread t faulted: call its pager ep with the fault message
 * and wait for the answer. Returns MICA_OK (resume), THREAD_PAGER_KILL,
 * or MICA_EPEER (the pager is gone, or dropped the call).
 */
int64_t ipc_fault_call(struct thread *t, struct endpoint *ep, uint64_t badge)
{
	struct thread *r = ep->receivers;

	if (ep->closed)
		return MICA_EPEER;
	if (kernel_send(t, ep, badge, true))
		await_reply(t, r);
	sched_block();
	t->ipc_kernel = false;
	return t->ipc_result;
}

/*
 * t's deadline has passed (timer_tick; t is out of the timer queue
 * already): it leaves what it waits for and is woken. A queued sender or
 * receiver leaves its queue, so nobody can deliver to it now; a caller
 * waiting for its reply gives it up, and the server that owes it learns
 * at its next reply, with MICA_EPEER, that nobody waits (as if the caller
 * had died); a notification's waiter leaves its queue. Each of these
 * hears MICA_ETIMEDOUT; a sleeper, MICA_OK.
 */
void ipc_expire(struct thread *t)
{
	int64_t result = MICA_ETIMEDOUT;

	if (t->ipc_state == IPC_SENDING) {
		unlink(&t->ipc_ep->senders, &t->ipc_ep->senders_tail, t);
	} else if (t->ipc_state == IPC_RECEIVING) {
		unlink(&t->ipc_ep->receivers, &t->ipc_ep->receivers_tail, t);
	} else if (t->ipc_state == IPC_AWAIT_REPLY) {
		if (t->replier) {
			t->replier->reply_to = NULL;
			t->replier->reply_lost = true;
			t->replier = NULL;
		}
	} else if (t->ipc_state == IPC_NOTIFY_WAIT) {
		notify_unwait(t); /* a notify_wait with MICA_NOTIFY_TIMEOUT (notify.c) */
	} else {
		result = MICA_OK; /* a sleep: its deadline is all it waited for */
	}
	wake(t, result);
}

/*
 * sleep(ns): the current thread waits on nothing for at least ns (at most
 * MICA_TIMEOUT_MAX; 0 returns at once). Returns MICA_OK, or MICA_EINVAL.
 * A thread that owes a reply still owes it after.
 */
int64_t ipc_sleep(uint64_t ns)
{
	struct thread *t = sched_current();

	/* A timeout in range; nothing to wait for at 0. */
	if (ns > MICA_TIMEOUT_MAX)
		return MICA_EINVAL;
	if (ns == 0)
		return MICA_OK;
	timer_arm(t, timer_deadline(ns));
	sched_block();
	return t->ipc_result;
}
