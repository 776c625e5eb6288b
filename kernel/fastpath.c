/*
 * The IPC fast path: call and reply_recv to a partner that waits. This is
 * the round trip of every client and server, so it gets its own short
 * code (and the steadiest case, registers only between two threads of a
 * priority, its assembly one first: arch/x86_64/ipcfast.asm, which comes
 * here for anything else): one handle lookup, the nine message registers copied from frame
 * to frame, the buffer (if both sides have a descriptor) copied straight
 * from one address space to the other, the reply link set, and a direct
 * switch to the partner when the scheduler would pick it anyway
 * (sched_ipc_handoff), without a pass through the run queues.
 *
 * Descriptors (RBX) are read and checked as ipc.c does (extra_check: the
 * running thread's send and receive parts; the waiting partner's read
 * again, as it may have changed), through the running thread's kept
 * translation cache (ipc_tlb: each user page walked once until a mapping
 * goes), in place through the direct map, and delivered as ipc.c's
 * transfer() does; the fast path takes only simple ones: in one page, no
 * timeout, no handle to pass.
 *
 * Anything unusual takes the general path in ipc.c, which gives the same
 * result: a descriptor that asks for more or fails a check (the general
 * path then gives the error), a partner with a deadline, a kernel label,
 * a closed endpoint, nobody waiting, a queued sender, a partner that is a
 * kernel message (page fault; only its resume reply is taken here), a
 * reply to a caller that died. A thread blocked
 * here is blocked exactly as one blocked in ipc.c (in an endpoint queue or
 * awaiting a reply, resumed with ipc_result), so the two paths mix freely.
 */
#include <mica/error.h>
#include <mica/fault.h>
#include <mica/handle.h>
#include <mica/ipc.h>
#include "fastpath.h"
#include "aspace.h"
#include "handle.h"
#include "lib/string.h"
#include "ipc.h"
#include "sched.h"
#include "syscall.h"
#include "usercopy.h"

/* The endpoint behind handle value h of thread t, with `right`; NULL if not so. */
static inline __attribute__((always_inline)) struct endpoint *
endpoint_of(struct thread *t, uint64_t h, uint32_t right, uint64_t *badge)
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

/*
 * One side's descriptor as the fast path uses it: in place (d), with its
 * buffers through the thread's kept views where each lies in one page
 * (NULL: over a page boundary, copied through the checked routine).
 */
struct side {
	struct mica_ipc_extra *d;
	const uint8_t *send_k;
	uint8_t *recv_k;
};

/*
 * The running thread t's descriptor at `at`, checked as ipc.c's
 * extra_check does with both parts (t sends now and receives next), and
 * simple: in one page (reached in place, writable: recv_len goes there),
 * no flags (so no timeout), no handle to pass. False if not so.
 */
static bool own_desc(struct thread *t, vaddr_t at, struct side *x, struct usercopy_cache *uc)
{
	paddr_t root = t->as->root;
	struct mica_ipc_extra *d =
	    usercopy_view_ptr(&t->ipc_view[IPC_VIEW_DESC], uc, root, at, sizeof(*d), true);

	if (!d)
		return false;
	x->d = d;
	if (d->flags || d->send_handle != MICA_HANDLE_NONE || d->send_len > MICA_MSG_BUF_MAX ||
	    d->recv_cap > MICA_MSG_BUF_MAX)
		return false;
	/* The buffers: the one it sends readable, the one it receives into writable. */
	x->send_k = NULL;
	if (d->send_len &&
	    !(x->send_k = usercopy_view_ptr(&t->ipc_view[IPC_VIEW_SEND], uc, root, d->send_buf,
	                                    d->send_len, false)) &&
	    usercopy_check_cached(uc, root, d->send_buf, d->send_len, false) != MICA_OK)
		return false;
	if (d->recv_cap &&
	    !usercopy_view_ptr(&t->ipc_view[IPC_VIEW_RECV], uc, root, d->recv_buf, d->recv_cap,
	                       true) &&
	    usercopy_check_cached(uc, root, d->recv_buf, d->recv_cap, true) != MICA_OK)
		return false;
	return true;
}

/*
 * The waiting partner p's descriptor at `at`, read again (a sibling thread
 * may have changed it) and writable, as transfer() needs it, in one page.
 * False if not so (the general path then delivers as ipc.c does).
 */
static bool partner_desc(struct thread *p, vaddr_t at, struct side *x, struct usercopy_cache *uc)
{
	x->d = usercopy_view_ptr(&p->ipc_view[IPC_VIEW_DESC], uc, p->as->root, at, sizeof(*x->d),
	                         true);
	return x->d != NULL;
}

/*
 * The buffer from s (its side xs, or NULL for none) to r (side xr): as
 * much as fits, straight between the two address spaces (through the
 * views where each lies in one page), then r's recv_len (the length sent,
 * 0 if the buffer went bad) and recv_handle (none) written back.
 */
static void deliver_buf(struct thread *s, const struct side *xs, struct thread *r,
                        const struct side *xr, struct usercopy_cache *uc)
{
	struct mica_ipc_extra *rd = xr->d;
	uint32_t len = xs ? xs->d->send_len : 0;
	uint32_t n = MIN(len, rd->recv_cap);

	if (n) {
		uint8_t *to = usercopy_view_ptr(&r->ipc_view[IPC_VIEW_RECV], uc, r->as->root,
		                                rd->recv_buf, n, true);

		if (to && xs->send_k) {
			/* One address space: the two may overlap (memmove); two: never. */
			if (s->as == r->as)
				memmove(to, xs->send_k, n);
			else
				memcpy(to, xs->send_k, n);
		} else if (usercopy_between(uc, r->as->root, rd->recv_buf, s->as->root,
		                            xs->d->send_buf, n) != MICA_OK) {
			len = 0; /* the buffer went away meanwhile: nothing arrived */
		}
	}
	rd->recv_len = len;
	rd->recv_handle = MICA_HANDLE_NONE;
}

/* Both sides of a delivery, from the running thread (s) to its partner (r). */
struct sides {
	struct side s, r;
};

/*
 * The descriptors of a fast-path delivery: the running thread t's at `at`
 * and its waiting partner p's at `pat` (0: none), checked, through t's
 * kept translations; and a partner without a deadline to cancel. False
 * if the general path must take the call. Out of line: the call without
 * descriptors does not pay for it.
 */
static __attribute__((noinline)) bool sides_check(struct thread *t, vaddr_t at, struct thread *p,
                                                  vaddr_t pat, struct sides *d)
{
	struct usercopy_cache *uc = &t->ipc_tlb;

	usercopy_cache_sync(uc);
	return !p->deadline && (!at || own_desc(t, at, &d->s, uc)) &&
	       (!pat || partner_desc(p, pat, &d->r, uc));
}

/* The current thread t blocks; `next`, its partner, now runnable, goes first if it may. */
static int64_t switch_to_partner(struct thread *t, struct thread *next)
{
	next->ipc_result = MICA_OK;
	if (!sched_ipc_handoff(next)) {
		sched_wake(next);
		sched_block();
	}
	return t->ipc_result;
}

/*
 * call to an endpoint where a receiver waits. Anything else, having changed nothing, goes to the
 * general path (ipc_send). The system call's handler.
 */
int64_t fastpath_call(const struct syscall_args *s)
{
	struct thread *t = sched_current();
	struct trap_frame *f = syscall_abi_frame(s);
	struct sides d;
	uint64_t badge;

	/* A label user code may send. */
	if (syscall_abi_ipc_label(f) >= MICA_LABEL_KERNEL)
		return ipc_send(s, true, true);
	/* An endpoint we may send to, with a receiver waiting. */
	struct endpoint *ep = endpoint_of(t, s->a[0], MICA_RIGHT_SEND, &badge);
	if (!ep || ep->closed || !ep->receivers)
		return ipc_send(s, true, true);
	struct thread *r = ep->receivers;
	vaddr_t at = syscall_abi_ipc_extra(f), rat = syscall_abi_ipc_extra(thread_frame(r));
	/* Simple descriptors, checked; a receiver without a deadline to cancel. */
	if ((at || rat) && !sides_check(t, at, r, rat, &d))
		return ipc_send(s, true, true);

	/* Deliver, and wait for the reply: r owes it (r owed none while it waited). */
	ep->receivers = r->ipc_next;
	if (!ep->receivers)
		ep->receivers_tail = NULL;
	r->ipc_next = NULL;
	r->ipc_ep = NULL;
	r->ipc_state = IPC_NONE;
	move_regs(f, thread_frame(r), badge);
	if (rat)
		deliver_buf(t, at ? &d.s : NULL, r, &d.r, &t->ipc_tlb);
	t->ipc_state = IPC_AWAIT_REPLY;
	t->replier = r;
	r->reply_to = t;
	return switch_to_partner(t, r);
}

/*
 * reply_recv: the reply goes to a caller that waits for it (a user call,
 * or a fault told to retry), and no sender is queued on the endpoint, so
 * this thread goes on to wait there. Anything else, having changed
 * nothing, goes to the general path (ipc_reply_recv). The system call's
 * handler.
 */
int64_t fastpath_reply_recv(const struct syscall_args *s)
{
	struct thread *t = sched_current();
	struct thread *c = t->reply_to;
	struct trap_frame *f = syscall_abi_frame(s);
	struct sides d;
	uint64_t badge;

	/*
	 * A live caller to answer, with a label user code may send: a user
	 * thread, or a faulting one (a kernel call) told to retry its access.
	 */
	if (!c || syscall_abi_ipc_label(f) >= MICA_LABEL_KERNEL ||
	    (c->ipc_kernel && syscall_abi_ipc_label(f) != MICA_FAULT_RESUME))
		return ipc_reply_recv(s);
	/* An endpoint we may receive on, with nobody queued to send (and no
	 * bound notification, whose bits the general path checks first). */
	struct endpoint *ep = endpoint_of(t, s->a[0], MICA_RIGHT_RECV, &badge);
	if (!ep || ep->closed || ep->senders || t->bound_ntf)
		return ipc_reply_recv(s);
	/* A kernel caller takes no registers or buffer: its answer is the label. */
	vaddr_t at = syscall_abi_ipc_extra(f),
	        cat = c->ipc_kernel ? 0 : syscall_abi_ipc_extra(thread_frame(c));
	/* Simple descriptors, checked; a caller without a deadline to cancel. */
	if ((at || cat) && !sides_check(t, at, c, cat, &d))
		return ipc_reply_recv(s);

	/* The reply: the caller's registers get ours, with no badge; or it retries. */
	if (!c->ipc_kernel)
		move_regs(f, thread_frame(c), 0);
	if (cat)
		deliver_buf(t, at ? &d.s : NULL, c, &d.r, &t->ipc_tlb);
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
	return switch_to_partner(t, c);
}
