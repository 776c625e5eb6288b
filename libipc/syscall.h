/*
 * User-side system-call wrappers: one inline function per call of
 * include/mica/syscall.h, following its register convention.
 */
#ifndef LIBIPC_SYSCALL_H
#define LIBIPC_SYSCALL_H

#include <mica/error.h>
#include <mica/syscall.h>
#include <stddef.h>
#include <stdint.h>

static inline int64_t mica_syscall4(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	int64_t ret;
	register uint64_t r10 __asm__("r10") = a3;

	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
	                 : "rcx", "r11", "memory");
	return ret;
}

/* Write len bytes (at most MICA_DEBUG_WRITE_MAX) to the kernel's serial console. */
static inline int64_t mica_debug_write(const void *buf, size_t len)
{
	return mica_syscall4(MICA_SYS_DEBUG_WRITE, (uint64_t)buf, len, 0, 0);
}

/* End the calling thread. */
static inline __attribute__((noreturn)) void mica_thread_exit(int64_t code)
{
	mica_syscall4(MICA_SYS_THREAD_EXIT, (uint64_t)code, 0, 0, 0);
	__builtin_unreachable();
}

/* Let another thread of the same priority run. */
static inline int64_t mica_yield(void)
{
	return mica_syscall4(MICA_SYS_YIELD, 0, 0, 0, 0);
}

/* Start a thread in this address space at entry(arg) on stack_top; returns its id. */
static inline int64_t mica_thread_create(void (*entry)(uint64_t), void *stack_top, uint64_t arg,
                                         unsigned prio)
{
	return mica_syscall4(MICA_SYS_THREAD_CREATE, (uint64_t)entry, (uint64_t)stack_top, arg,
	                     prio);
}

#endif /* LIBIPC_SYSCALL_H */
