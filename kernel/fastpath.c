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
 * When both sides use their IPC buffers (RBX MICA_IPC_BUFFER, ipcbuf.c),
 * ipcbuf_pass takes the call with one compare per buffer (the kernel's
 * kept view of each page), the sender's lengths and flags, and the copy.
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
#include "ipcbuf.h"
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
 * One side of a delivery as the fast path uses it, in place: what it
 * sends (the running thread) or where it receives (the waiting partner).
 * A buffer in one page is reached through a kept view (send_k, recv_k);
 * NULL: over a page boundary, copied through the checked routine. A side
 * with an IPC buffer (RBX MICA_IPC_BUFFER, ipcbuf.c) has its buffer's
 * data as both buffers, in one page by construction.
 */
struct side {
	uint32_t send_len;
	vaddr_t send_buf;
	const uint8_t *send_k;
	uint32_t recv_cap;
	vaddr_t recv_buf;
	uint8_t *recv_k;
	uint32_t *out; /* recv_len, then recv_handle */
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
	if (d->flags || d->send_handle != MICA_HANDLE_NONE || d->send_len > MICA_MSG_BUF_MAX ||
	    d->recv_cap > MICA_MSG_BUF_MAX)
		return false;
	x->send_len = d->send_len;
	x->send_buf = d->send_buf;
	x->out = &d->recv_len;
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
 * The running thread t's IPC buffer: mapped writable (its kept view, one
 * compare), no flags, no handle to pass, a length that fits. Its data is
 * its buffer both ways: nothing else to check. False if not so.
 */
static bool own_ipcbuf(struct thread *t, struct side *x, struct usercopy_cache *uc)
{
	struct mica_ipc_buffer *b = ipcbuf_get(t, uc);

	if (!b || b->flags || b->send_handle != MICA_HANDLE_NONE ||
	    b->send_len > MICA_IPC_BUFFER_DATA)
		return false;
	x->send_len = b->send_len;
	x->send_buf = t->ipcbuf + MICA_IPC_BUFFER_HEAD;
	x->send_k = b->data;
	x->out = &b->recv_len;
	return true;
}

/*
 * The waiting partner p's descriptor at `at`, read again (a sibling thread
 * may have changed it) and writable, as transfer() needs it, in one page;
 * or its IPC buffer, mapped writable. False if not so (the general path
 * then delivers as ipc.c does).
 */
static bool partner_side(struct thread *p, vaddr_t at, struct side *x, struct usercopy_cache *uc)
{
	if (at == MICA_IPC_BUFFER) {
		struct mica_ipc_buffer *b = ipcbuf_get(p, uc);

		if (!b)
			return false;
		x->recv_cap = MICA_IPC_BUFFER_DATA;
		x->recv_buf = p->ipcbuf + MICA_IPC_BUFFER_HEAD;
		x->recv_k = b->data;
		x->out = &b->recv_len;
		return true;
	}
	struct mica_ipc_extra *d =
	    usercopy_view_ptr(&p->ipc_view[IPC_VIEW_DESC], uc, p->as->root, at, sizeof(*d), true);
	if (!d)
		return false;
	x->recv_cap = d->recv_cap;
	x->recv_buf = d->recv_buf;
	x->recv_k = NULL; /* found at delivery, for the length sent */
	x->out = &d->recv_len;
	return true;
}

/* The side of a thread that sends no buffer. */
static const struct side no_send;

/*
 * The buffer from s (its side xs, or no_send) to r (side xr): as
 * much as fits, straight between the two address spaces (through the
 * views where each lies in one page), then r's recv_len (the length sent,
 * 0 if the buffer went bad) and recv_handle (none) written back.
 */
static void deliver_buf(struct thread *s, const struct side *xs, struct thread *r,
                        const struct side *xr, struct usercopy_cache *uc)
{
	uint32_t len = xs->send_len;
	uint32_t n = MIN(len, xr->recv_cap);

	if (n) {
		uint8_t *to = xr->recv_k ? xr->recv_k
		                         : usercopy_view_ptr(&r->ipc_view[IPC_VIEW_RECV], uc,
		                                             r->as->root, xr->recv_buf, n, true);

		if (to && xs->send_k) {
			/* One address space: the two may overlap (memmove); two: never. */
			if (s->as == r->as)
				memmove(to, xs->send_k, n);
			else
				memcpy(to, xs->send_k, n);
		} else if (usercopy_between(uc, r->as->root, xr->recv_buf, s->as->root,
		                            xs->send_buf, n) != MICA_OK) {
			len = 0; /* the buffer went away meanwhile: nothing arrived */
		}
	}
	xr->out[0] = len;
	xr->out[1] = (uint32_t)MICA_HANDLE_NONE;
}

/* Both sides of a delivery, from the running thread (s) to its partner (r). */
struct sides {
	struct side s, r;
};

/*
 * The descriptors of a fast-path delivery: the running thread t's at `at`
 * (or its IPC buffer) and its waiting partner p's at `pat` (0: none),
 * checked, through t's kept translations; and a partner without a
 * deadline to cancel. False if the general path must take the call.
 */
static bool sides_check(struct thread *t, vaddr_t at, struct thread *p, vaddr_t pat,
                        struct sides *d)
{
	struct usercopy_cache *uc = &t->ipc_tlb;

	usercopy_cache_sync(uc);
	if (p->deadline)
		return false;
	if (at == MICA_IPC_BUFFER) {
		if (!own_ipcbuf(t, &d->s, uc))
			return false;
	} else if (at && !own_desc(t, at, &d->s, uc)) {
		return false;
	}
	return !pat || partner_side(p, pat, &d->r, uc);
}

/*
 * The usual case of libipc's calls: both sides use their IPC buffers
 * (RBX MICA_IPC_BUFFER), both found through their kept views (ipcbuf.c;
 * a view that is not current sends the call to the general path, which
 * finds the page again), and the partner r has no deadline. Then s's
 * head needs only its lengths and flags checked, and the data goes
 * straight from s's buffer to r's, with r's recv_len and recv_handle
 * written back. True if it delivered; false, having changed nothing, if
 * the general path must take the call.
 */
static __attribute__((noinline)) bool ipcbuf_pass(struct thread *s, struct thread *r)
{
	uint64_t gen = pt_generation;

	if (s->ipcbuf_view.gen != gen || r->ipcbuf_view.gen != gen || r->deadline)
		return false;
	const struct mica_ipc_buffer *sb = (const struct mica_ipc_buffer *)s->ipcbuf_view.kva;
	struct mica_ipc_buffer *rb = (struct mica_ipc_buffer *)r->ipcbuf_view.kva;
	uint32_t n = sb->send_len;
	if (sb->flags || sb->send_handle != MICA_HANDLE_NONE || n > MICA_IPC_BUFFER_DATA)
		return false;
	if (s->as == r->as) {
		/* One address space: two threads may share a page. */
		memmove(rb->data, sb->data, n);
	} else {
		/* Two: the buffers never overlap in part (both are whole pages;
		 * one frame shared by both is a copy onto itself). 8 bytes a
		 * step, then the rest: exactly n, no byte past what s sent. */
		const uint8_t *from = sb->data;
		uint8_t *to = rb->data;
		uint64_t words = n / 8, bytes = n % 8;

		__asm__ volatile("rep movsq\n\tmovq %3, %%rcx\n\trep movsb"
		                 : "+D"(to), "+S"(from), "+c"(words)
		                 : "r"(bytes)
		                 : "memory");
	}
	rb->recv_len = n;
	rb->recv_handle = MICA_HANDLE_NONE;
	return true;
}

/* bufs_pass with a descriptor on either side (or a side without a buffer). */
static __attribute__((noinline)) bool desc_pass(struct thread *t, vaddr_t at, struct thread *p,
                                                vaddr_t pat)
{
	struct sides d;

	if (!sides_check(t, at, p, pat, &d))
		return false;
	if (pat)
		deliver_buf(t, at ? &d.s : &no_send, p, &d.r, &t->ipc_tlb);
	return true;
}

/*
 * The buffers of a fast-path delivery from the running thread t (its
 * descriptor or IPC buffer `at`, 0: none) to its waiting partner p (`pat`):
 * checked, then delivered. The last check of the fast path: true if it
 * delivered, false (nothing changed) if the general path must take the
 * call. Out of line: the call without descriptors does not pay for it.
 */
static inline bool bufs_pass(struct thread *t, vaddr_t at, struct thread *p, vaddr_t pat)
{
	if (at == MICA_IPC_BUFFER && pat == MICA_IPC_BUFFER)
		return ipcbuf_pass(t, p);
	return desc_pass(t, at, p, pat);
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
	/* Simple descriptors, checked, and the buffer delivered; a receiver without a deadline. */
	if ((at | rat) && !bufs_pass(t, at, r, rat))
		return ipc_send(s, true, true);

	/* Deliver, and wait for the reply: r owes it (r owed none while it waited). */
	ep->receivers = r->ipc_next;
	if (!ep->receivers)
		ep->receivers_tail = NULL;
	r->ipc_next = NULL;
	r->ipc_ep = NULL;
	r->ipc_state = IPC_NONE;
	move_regs(f, thread_frame(r), badge);
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
	/* Simple descriptors, checked, and the buffer delivered; a caller without a deadline. */
	if ((at | cat) && !bufs_pass(t, at, c, cat))
		return ipc_reply_recv(s);

	/* The reply: the caller's registers get ours, with no badge; or it retries. */
	if (!c->ipc_kernel)
		move_regs(f, thread_frame(c), 0);
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
