/*
 * Threads and the mutex (<thread.h>). A thread is a pager call
 * (pager.thread_create) that starts rt_thread_entry on a stack the pager
 * gives; joining is pager.thread_join, asked again after a yield while the
 * thread runs (the pager never blocks, so it answers MICA_EAGAIN).
 *
 * The mutex is a test-and-set word: a thread that finds it held yields its
 * turn and tries again. Why not a futex or a notification: the kernel has
 * no wait-on-address, and a notification per mutex would cost a kernel
 * object and a handle each; a process's threads all run at one priority,
 * so a yield gives the holder its turn and the spin is short. The price:
 * no fairness and no priority inheritance, and a waiter uses its turns.
 */
#include <idl/pager_client.h>
#include <libipc/ipc.h>
#include <libipc/syscall.h>
#include <mica/fault.h>
#include <mica/pager.h>
#include <stdlib.h>
#include <thread.h>
#include "rt.h"

/* What a new thread runs, handed over in a heap block it frees. */
struct start {
	long (*fn)(void *arg);
	void *arg;
};

/*
 * A new thread begins here (RSP as after a call), takes a page of its
 * stack as its IPC buffer (libipc uses it: crt0.c), runs fn and ends with
 * what it returns.
 */
__attribute__((noreturn)) static void rt_thread_entry(struct start *st)
{
	long (*fn)(void *) = st->fn;
	void *arg = st->arg;
	struct mica_ipc_buffer ipcbuf __attribute__((aligned(MICA_PAGE_SIZE)));
	long e = ipc_buffers_on() ? rt_ipc_buffer_take(&ipcbuf) : 0;

	if (e != 0) {
		rt_free(st); /* no IPC without one (the heap's lock is no IPC) */
		thread_exit((uint64_t)e);
	}
	rt_free(st);
	thread_exit((uint64_t)fn(arg));
}

long thread_create(long (*fn)(void *arg), void *arg)
{
	const struct mica_startup *info = rt_startup_info();
	struct start *st;
	uint64_t tid;
	int e;

	if (!info)
		return MICA_EPERM;
	if (!(st = rt_malloc(sizeof(*st))))
		return MICA_ENOMEM;
	st->fn = fn;
	st->arg = arg;
	e = pager_thread_create(info->pager, (uint64_t)(uintptr_t)rt_thread_entry,
	                        (uint64_t)(uintptr_t)st, &tid);
	if (e < 0) {
		rt_free(st);
		return e;
	}
	return (long)tid;
}

int thread_join(long tid, uint64_t *code)
{
	const struct mica_startup *info = rt_startup_info();
	uint32_t reason;
	uint64_t c;
	int e;

	if (!info)
		return MICA_EPERM;
	while ((e = pager_thread_join(info->pager, (uint64_t)tid, &reason, &c)) == MICA_EAGAIN)
		(void)mica_yield();
	if (e < 0)
		return e;
	if (code)
		*code = c;
	return reason == MICA_EXIT_NORMAL ? 0 : (int)reason;
}

void thread_exit(uint64_t code)
{
	mica_thread_exit((int64_t)code);
	__builtin_unreachable();
}

void mutex_lock(struct mutex *m)
{
	while (__atomic_exchange_n(&m->locked, 1, __ATOMIC_ACQUIRE))
		(void)mica_yield();
}

int mutex_trylock(struct mutex *m)
{
	return !__atomic_exchange_n(&m->locked, 1, __ATOMIC_ACQUIRE);
}

void mutex_unlock(struct mutex *m)
{
	__atomic_store_n(&m->locked, 0, __ATOMIC_RELEASE);
}
