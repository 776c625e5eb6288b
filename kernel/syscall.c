/*
 * System-call dispatch. syscall_abi.h turns registers into arguments; the
 * table below, indexed by the ABI's numbers, names each handler. Every
 * handler checks all of its arguments before it changes anything.
 */
#include <mica/error.h>
#include <mica/syscall.h>
#include "aspace.h"
#include "ipc.h"
#include "sched.h"
#include "serial.h"
#include "syscall_abi.h"
#include "thread.h"
#include "usercopy.h"

typedef int64_t (*syscall_fn)(const struct syscall_args *s);

/* debug_write(buf, len): write len bytes of user memory to the serial line. */
static int64_t sys_debug_write(const struct syscall_args *s)
{
	char buf[256];
	uint64_t len = s->a[1];

	/* A bounded length; every byte readable (checked as it is copied). */
	if (len > MICA_DEBUG_WRITE_MAX)
		return MICA_EINVAL;
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

/*
 * thread_create(entry, stack_top, arg, priority): a new thread in the
 * caller's address space. Provisional: with handles it takes an address
 * space handle and returns a thread handle.
 */
static int64_t sys_thread_create(const struct syscall_args *s)
{
	struct thread *t;

	/* A valid priority; thread_create_user checks the addresses. */
	if (s->a[3] > MICA_PRIO_MAX)
		return MICA_EINVAL;
	int rc = thread_create_user(sched_current()->as, s->a[0], s->a[1], s->a[2],
	                            (unsigned)s->a[3], &t);
	return rc == MICA_OK ? (int64_t)t->id : rc;
}

/* endpoint_create(): a new endpoint; the caller gets a send/receive/copy handle. */
static int64_t sys_endpoint_create(const struct syscall_args *s)
{
	struct aspace *as = sched_current()->as;
	struct endpoint *ep;
	mica_handle_t h;

	(void)s;
	if (endpoint_create(&ep) != MICA_OK)
		return MICA_ENOMEM;
	if (handle_alloc(&as->handles, &ep->obj,
	                 MICA_RIGHT_SEND | MICA_RIGHT_RECV | MICA_RIGHT_COPY, 0, &h) != MICA_OK) {
		endpoint_release(ep); /* no reference was taken: free it now */
		return MICA_ENOMEM;
	}
	return h;
}

/* A handle argument: it must fit a mica_handle_t, or it names nothing. */
static int handle_arg(uint64_t v, mica_handle_t *h)
{
	if ((int64_t)v < INT32_MIN || (int64_t)v > INT32_MAX)
		return MICA_EBADH;
	*h = (mica_handle_t)(int64_t)v;
	return MICA_OK;
}

/* handle_close(h): drop a handle; the object goes with its last one. */
static int64_t sys_handle_close(const struct syscall_args *s)
{
	mica_handle_t h;

	if (handle_arg(s->a[0], &h) != MICA_OK)
		return MICA_EBADH;
	return handle_close(&sched_current()->as->handles, h);
}

/* handle_mint(h, rights_mask, badge): a badged copy of an endpoint handle. */
static int64_t sys_handle_mint(const struct syscall_args *s)
{
	mica_handle_t h, out;

	if (handle_arg(s->a[0], &h) != MICA_OK)
		return MICA_EBADH;
	int rc = handle_mint(&sched_current()->as->handles, h, (uint32_t)s->a[1], s->a[2], &out);
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

static int64_t sys_ipc_call(const struct syscall_args *s)
{
	return ipc_send(s, true, true);
}

static int64_t sys_ipc_recv(const struct syscall_args *s)
{
	return ipc_recv(s, true);
}

static int64_t sys_ipc_try_recv(const struct syscall_args *s)
{
	return ipc_recv(s, false);
}

static const syscall_fn syscall_table[MICA_SYS_COUNT] = {
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
    [MICA_SYS_IPC_CALL] = sys_ipc_call,
    [MICA_SYS_IPC_REPLY_RECV] = ipc_reply_recv,
};

/* Entered from entry.asm with the caller's registers in f. */
void syscall_dispatch(struct trap_frame *f)
{
	struct syscall_args s;

	syscall_abi_args(f, &s);
	if (s.nr >= MICA_SYS_COUNT || !syscall_table[s.nr]) {
		syscall_abi_result(f, MICA_ENOSYS);
		return;
	}
	syscall_abi_result(f, syscall_table[s.nr](&s));
}
