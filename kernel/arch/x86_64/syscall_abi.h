/*
 * Which register carries which system-call argument: the only place that
 * knows (include/mica/syscall.h states the same convention for callers).
 */
#ifndef ARCH_SYSCALL_ABI_H
#define ARCH_SYSCALL_ABI_H

#include "trap.h"

struct syscall_args {
	uint64_t nr;
	uint64_t a[6];
};

static inline void syscall_abi_args(const struct trap_frame *f, struct syscall_args *s)
{
	s->nr = f->rax;
	s->a[0] = f->rdi;
	s->a[1] = f->rsi;
	s->a[2] = f->rdx;
	s->a[3] = f->r10;
	s->a[4] = f->r8;
	s->a[5] = f->r9;
}

static inline void syscall_abi_result(struct trap_frame *f, int64_t v)
{
	f->rax = (uint64_t)v;
}

#endif /* ARCH_SYSCALL_ABI_H */
