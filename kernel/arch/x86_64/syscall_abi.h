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
	struct trap_frame *frame; /* for calls with more registers (IPC) */
};

/* IPC message registers (include/mica/ipc.h): label, 8 words, extras, badge. */
struct ipc_regs {
	uint64_t label;
	uint64_t w[8];
};

static inline void syscall_abi_ipc_get(const struct trap_frame *f, struct ipc_regs *m)
{
	m->label = f->rsi;
	m->w[0] = f->rdx;
	m->w[1] = f->r10;
	m->w[2] = f->r8;
	m->w[3] = f->r9;
	m->w[4] = f->r12;
	m->w[5] = f->r13;
	m->w[6] = f->r14;
	m->w[7] = f->r15;
}

static inline void syscall_abi_ipc_set(struct trap_frame *f, const struct ipc_regs *m,
                                       uint64_t badge)
{
	f->rdi = badge;
	f->rsi = m->label;
	f->rdx = m->w[0];
	f->r10 = m->w[1];
	f->r8 = m->w[2];
	f->r9 = m->w[3];
	f->r12 = m->w[4];
	f->r13 = m->w[5];
	f->r14 = m->w[6];
	f->r15 = m->w[7];
}

static inline uint64_t syscall_abi_ipc_label(const struct trap_frame *f)
{
	return f->rsi;
}

static inline uint64_t syscall_abi_ipc_extra(const struct trap_frame *f)
{
	return f->rbx;
}

static inline void syscall_abi_args(const struct trap_frame *f, struct syscall_args *s)
{
	s->nr = f->rax;
	s->a[0] = f->rdi;
	s->a[1] = f->rsi;
	s->a[2] = f->rdx;
	s->a[3] = f->r10;
	s->a[4] = f->r8;
	s->a[5] = f->r9;
	s->frame = (struct trap_frame *)f;
}

static inline void syscall_abi_result(struct trap_frame *f, int64_t v)
{
	f->rax = (uint64_t)v;
}

#endif /* ARCH_SYSCALL_ABI_H */
