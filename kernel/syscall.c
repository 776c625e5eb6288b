/*
 * System-call dispatch. syscall_abi.h turns registers into arguments; the
 * table below, indexed by the ABI's numbers, names each handler. Every
 * handler checks all of its arguments before it changes anything.
 */
#include <mica/error.h>
#include <mica/fault.h>
#include <mica/syscall.h>
#include <mica/thread.h>
#include "aspace.h"
#include "fastpath.h"
#include "ioport.h"
#include "ipc.h"
#include "ipcbuf.h"
#include "irq.h"
#include "notify.h"
#include "sched.h"
#include "serial.h"
#include "syscall.h"
#include "syscall_abi.h"
#include "thread.h"
#include "timer.h"
#include "trace.h"
#include "usercopy.h"

/* debug_write(buf, len): write len bytes of user memory to the serial line. */
static int64_t sys_debug_write(const struct syscall_args *s)
{
	char buf[256];
	uint64_t len = s->a[1];

	/* A bounded length; every byte readable, before any is written out. */
	if (len > MICA_DEBUG_WRITE_MAX)
		return MICA_EINVAL;
	if (len && usercopy_check(sched_current()->as->root, s->a[0], len, false) != MICA_OK)
		return MICA_EFAULT;
	for (uint64_t done = 0; done < len;) {
		size_t n = MIN(sizeof(buf), len - done);

		if (usercopy_from(buf, s->a[0] + done, n) != MICA_OK)
			return MICA_EFAULT;
		serial_write(buf, n);
		done += n;
	}
	return (int64_t)len;
}

/* thread_exit(code): end the calling thread. */
static int64_t sys_thread_exit(const struct syscall_args *s)
{
	thread_exit((int64_t)s->a[0]);
}

/* yield(): let the next thread of the same priority run. */
static int64_t sys_yield(const struct syscall_args *s)
{
	(void)s;
	sched_yield();
	return MICA_OK;
}

/* A handle argument: it must fit a mica_handle_t, or it names nothing. */
static int handle_arg(uint64_t v, mica_handle_t *h)
{
	if ((int64_t)v < INT32_MIN || (int64_t)v > INT32_MAX)
		return MICA_EBADH;
	*h = (mica_handle_t)(int64_t)v;
	return MICA_OK;
}

/*
 * Look up handle `arg` of the calling thread: an object of `type`
 * (MICA_OBJ_NONE: any) with need_rights. Errors: MICA_EBADH (not a
 * handle value, or not one the caller holds of that type), MICA_ERIGHTS.
 */
int syscall_handle(uint64_t arg, uint32_t type, uint32_t need_rights, const struct handle **out)
{
	mica_handle_t h;

	if (handle_arg(arg, &h) != MICA_OK)
		return MICA_EBADH;
	return handle_get(&sched_current()->as->handles, h, type, need_rights, out);
}

/* An optional endpoint for a thread to report to: MICA_HANDLE_NONE, or one with SEND. */
static int link_arg(mica_handle_t h, struct endpoint **ep, uint64_t *badge)
{
	const struct handle *hd;

	*ep = NULL;
	*badge = 0;
	if (h == MICA_HANDLE_NONE)
		return MICA_OK;
	int rc = syscall_handle((uint64_t)(int64_t)h, MICA_OBJ_ENDPOINT, MICA_RIGHT_SEND, &hd);
	if (rc != MICA_OK)
		return rc;
	*ep = (struct endpoint *)hd->obj;
	*badge = hd->badge;
	return MICA_OK;
}

/*
 * thread_create(aspace, params): a thread in the address space, started
 * at once (include/mica/thread.h). The caller gets a handle with MANAGE
 * and COPY. Errors: MICA_EBADH, MICA_ERIGHTS (aspace lacks MANAGE, pager
 * or supervisor lacks SEND), MICA_EPEER (a destroyed address space),
 * MICA_EFAULT (params), MICA_EINVAL (a priority above MICA_PRIO_MAX),
 * MICA_EPERM (priority or max_priority above the caller's max_priority),
 * MICA_ERANGE (entry or stack outside the user half), MICA_ENOMEM.
 */
static int64_t sys_thread_create(const struct syscall_args *s)
{
	struct handle_table *table = &sched_current()->as->handles;
	struct mica_thread_params p;
	struct thread_links l;
	const struct handle *h;
	struct thread *t;
	mica_handle_t out;

	int rc = syscall_handle(s->a[0], MICA_OBJ_ASPACE, MICA_RIGHT_MANAGE, &h);
	if (rc != MICA_OK)
		return rc;
	struct aspace *as = (struct aspace *)h->obj;
	if (as->dead)
		return MICA_EPEER;
	if (usercopy_from(&p, s->a[1], sizeof(p)) != MICA_OK)
		return MICA_EFAULT;
	if (p.priority > MICA_PRIO_MAX || p.max_priority > MICA_PRIO_MAX)
		return MICA_EINVAL;
	/* Both within the creator's maximum: nobody out-ranks whoever started it. */
	uint8_t limit = sched_current()->max_prio;
	if (p.priority > limit || p.max_priority > limit)
		return MICA_EPERM;
	rc = link_arg(p.pager, &l.pager, &l.pager_badge);
	if (rc == MICA_OK)
		rc = link_arg(p.supervisor, &l.supervisor, &l.supervisor_badge);
	if (rc != MICA_OK)
		return rc;
	if (handle_room(table) != MICA_OK)
		return MICA_ENOMEM;
	rc = thread_create_user(as, p.entry, p.stack_top, p.arg, p.priority, &l, &t);
	if (rc != MICA_OK) {
		handle_room_undo(table);
		return rc;
	}
	t->max_prio = (uint8_t)p.max_priority;
	(void)handle_alloc(table, &t->obj, MICA_RIGHT_MANAGE | MICA_RIGHT_COPY, 0, &out);
	return out;
}

/*
 * thread_kill(thread, code): end the thread; its supervisor hears
 * MICA_EXIT_KILLED with `code`. A thread may kill itself. Errors:
 * MICA_EBADH, MICA_ERIGHTS (no MANAGE), MICA_EPEER (it has already ended).
 */
static int64_t sys_thread_kill(const struct syscall_args *s)
{
	const struct handle *h;

	int rc = syscall_handle(s->a[0], MICA_OBJ_THREAD, MICA_RIGHT_MANAGE, &h);
	if (rc != MICA_OK)
		return rc;
	struct thread *t = (struct thread *)h->obj;
	if (t->state == THREAD_ZOMBIE || t->state == THREAD_DEAD)
		return MICA_EPEER;
	thread_end(t, MICA_EXIT_KILLED, (int64_t)s->a[1], 0, "killed by thread_kill");
	return MICA_OK;
}

/* endpoint_create(): a new endpoint; the caller gets a send/receive/copy handle. */
static int64_t sys_endpoint_create(const struct syscall_args *s)
{
	struct handle_table *table = &sched_current()->as->handles;
	struct endpoint *ep;
	mica_handle_t h;

	(void)s;
	if (handle_room(table) != MICA_OK)
		return MICA_ENOMEM;
	if (endpoint_create(&ep) != MICA_OK) {
		handle_room_undo(table);
		return MICA_ENOMEM;
	}
	(void)handle_alloc(table, &ep->obj, MICA_RIGHT_SEND | MICA_RIGHT_RECV | MICA_RIGHT_COPY, 0,
	                   &h);
	kobj_unref(&ep->obj); /* the handle holds it now */
	return h;
}

/* handle_close(h): drop a handle; the object goes with its last one. */
static int64_t sys_handle_close(const struct syscall_args *s)
{
	mica_handle_t h;

	if (handle_arg(s->a[0], &h) != MICA_OK)
		return MICA_EBADH;
	return handle_close(&sched_current()->as->handles, h);
}

/*
 * handle_mint(h, rights_mask, badge): a copy of h with rights & mask; with
 * a badge (an unbadged endpoint handle only), a badged one.
 */
static int64_t sys_handle_mint(const struct syscall_args *s)
{
	struct handle_table *table = &sched_current()->as->handles;
	mica_handle_t h, out;
	int rc;

	if (handle_arg(s->a[0], &h) != MICA_OK)
		return MICA_EBADH;
	if (s->a[2] == 0)
		rc = handle_copy(table, h, table, (uint32_t)s->a[1], &out);
	else
		rc = handle_mint(table, h, (uint32_t)s->a[1], s->a[2], &out);
	return rc == MICA_OK ? out : rc;
}

/*
 * handle_give(aspace, h, rights_mask): a copy of the caller's handle h
 * (an endpoint, notification, interrupt or I/O port), with rights & mask
 * and the same badge, in the handle table of another address space;
 * returns its number there. This is how a task that made an address space
 * hands its first thread the endpoints it starts with (and the pager a
 * driver its interrupt line and ports). Not address spaces or threads:
 * the others refer to no address space or thread, so no cycle of
 * references can be left in an address space that has no thread yet to
 * end and clear its table; and not into one whose threads have all ended
 * (its table was cleared and nobody would clear it again). Errors:
 * MICA_EBADH (also h an address space or thread), MICA_ERIGHTS (aspace
 * lacks MANAGE, h lacks COPY), MICA_EPEER (a destroyed address space, or
 * one whose threads have all ended), MICA_ENOMEM (its table is full).
 */
static int64_t sys_handle_give(const struct syscall_args *s)
{
	struct handle_table *table = &sched_current()->as->handles;
	const struct handle *ah;
	mica_handle_t h, out;

	int rc = syscall_handle(s->a[0], MICA_OBJ_ASPACE, MICA_RIGHT_MANAGE, &ah);
	if (rc != MICA_OK)
		return rc;
	struct aspace *as = (struct aspace *)ah->obj;
	/* Its table was cleared for good (destroyed), or by its last thread
	 * leaving: a handle given now would stay, maybe in a cycle (a zombie's
	 * supervisor endpoint held by the zombie's own address space). */
	if (as->dead || (as->emptied && as->nthreads == 0))
		return MICA_EPEER;
	if (handle_arg(s->a[1], &h) != MICA_OK)
		return MICA_EBADH;
	const struct handle *src;
	rc = handle_get(table, h, MICA_OBJ_NONE, 0, &src);
	if (rc == MICA_OK &&
	    (src->obj->type == MICA_OBJ_ASPACE || src->obj->type == MICA_OBJ_THREAD))
		rc = MICA_EBADH;
	if (rc == MICA_OK)
		rc = handle_get(table, h, MICA_OBJ_NONE, MICA_RIGHT_COPY, NULL);
	if (rc != MICA_OK)
		return rc;
	rc = handle_copy(table, h, &as->handles, (uint32_t)s->a[2], &out);
	return rc == MICA_OK ? out : rc;
}

static int64_t sys_ipc_send(const struct syscall_args *s)
{
	return ipc_send(s, true, false);
}

static int64_t sys_ipc_try_send(const struct syscall_args *s)
{
	return ipc_send(s, false, false);
}

static int64_t sys_ipc_recv(const struct syscall_args *s)
{
	return ipc_recv(s, true);
}

static int64_t sys_ipc_try_recv(const struct syscall_args *s)
{
	return ipc_recv(s, false);
}

/* clock(): ns since boot, in whole timer ticks (include/mica/time.h); anyone may ask. */
static int64_t sys_clock(const struct syscall_args *s)
{
	(void)s;
	return (int64_t)timer_clock_ns();
}

/* sleep(ns): wait at least ns. Errors: MICA_EINVAL (over MICA_TIMEOUT_MAX). */
static int64_t sys_sleep(const struct syscall_args *s)
{
	return ipc_sleep(s->a[0]);
}

/*
 * entry.asm dispatches: syscall_table[nr](frame) for nr below syscall_count, else MICA_ENOSYS.
 * Every entry is set (entry.asm calls it without a test; test_syscall_args checks). Not const:
 * trace.c points every entry at its recorder while tracing (trace.h).
 */
_Static_assert(MICA_ENOSYS == -12, "entry.asm's SYSCALL_ENOSYS");
const uint64_t syscall_count = MICA_SYS_COUNT;
syscall_fn syscall_table[MICA_SYS_COUNT] = {
    [MICA_SYS_DEBUG_WRITE] = sys_debug_write,
    [MICA_SYS_THREAD_EXIT] = sys_thread_exit,
    [MICA_SYS_YIELD] = sys_yield,
    [MICA_SYS_THREAD_CREATE] = sys_thread_create,
    [MICA_SYS_ENDPOINT_CREATE] = sys_endpoint_create,
    [MICA_SYS_HANDLE_CLOSE] = sys_handle_close,
    [MICA_SYS_HANDLE_MINT] = sys_handle_mint,
    [MICA_SYS_IPC_SEND] = sys_ipc_send,
    [MICA_SYS_IPC_TRY_SEND] = sys_ipc_try_send,
    [MICA_SYS_IPC_RECV] = sys_ipc_recv,
    [MICA_SYS_IPC_TRY_RECV] = sys_ipc_try_recv,
    [MICA_SYS_IPC_CALL] = FASTPATH_CALL,             /* then fastpath_call, ipc_send */
    [MICA_SYS_IPC_REPLY_RECV] = FASTPATH_REPLY_RECV, /* then fastpath_reply_recv, ipc_reply_recv */
    [MICA_SYS_ASPACE_CREATE] = mem_aspace_create,
    [MICA_SYS_ASPACE_DESTROY] = mem_aspace_destroy,
    [MICA_SYS_MAP] = mem_map,
    [MICA_SYS_UNMAP] = mem_unmap,
    [MICA_SYS_GRANT] = mem_grant,
    [MICA_SYS_DONATE] = mem_donate,
    [MICA_SYS_MEM_STATS] = mem_stats_call,
    [MICA_SYS_THREAD_KILL] = sys_thread_kill,
    [MICA_SYS_HANDLE_GIVE] = sys_handle_give,
    [MICA_SYS_CLOCK] = sys_clock,
    [MICA_SYS_SLEEP] = sys_sleep,
    [MICA_SYS_NOTIFY_CREATE] = notify_sys_create,
    [MICA_SYS_NOTIFY_SIGNAL] = notify_sys_signal,
    [MICA_SYS_NOTIFY_WAIT] = notify_sys_wait,
    [MICA_SYS_NOTIFY_POLL] = notify_sys_poll,
    [MICA_SYS_NOTIFY_BIND] = notify_sys_bind,
    [MICA_SYS_IRQ_CREATE] = irq_sys_create,
    [MICA_SYS_IRQ_BIND] = irq_sys_bind,
    [MICA_SYS_IRQ_ACK] = irq_sys_ack,
    [MICA_SYS_IOPORT_CREATE] = ioport_sys_create,
    [MICA_SYS_IOPORT_ENABLE] = ioport_sys_enable,
    [MICA_SYS_TRACE] = trace_sys_control,
    [MICA_SYS_IPC_BUFFER_SET] = ipcbuf_sys_set,
};

/*
 * The dispatch entry.asm does inline, in C: the model it follows, and the
 * way the host tests (tests/host) enter the handlers with a frame.
 */
void syscall_dispatch(struct trap_frame *f)
{
	const struct syscall_args *s = (const struct syscall_args *)f;

	if (s->nr >= syscall_count || !syscall_table[s->nr]) {
		syscall_abi_result(f, MICA_ENOSYS);
		return;
	}
	syscall_abi_result(f, syscall_table[s->nr](s));
	sched_reap();
	sched_preempt();
}
