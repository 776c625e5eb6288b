/*
 * System-call dispatch. syscall_abi.h turns registers into arguments; the
 * table below, indexed by the ABI's numbers, names each handler. Every
 * handler checks all of its arguments before it changes anything.
 */
#include <mica/error.h>
#include <mica/syscall.h>
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

static const syscall_fn syscall_table[MICA_SYS_COUNT] = {
    [MICA_SYS_DEBUG_WRITE] = sys_debug_write,
    [MICA_SYS_THREAD_EXIT] = sys_thread_exit,
    [MICA_SYS_YIELD] = sys_yield,
    [MICA_SYS_THREAD_CREATE] = sys_thread_create,
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
