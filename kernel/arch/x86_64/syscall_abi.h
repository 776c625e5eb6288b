/*
 * Which register carries which system-call argument: the only place that
 * knows (include/mica/syscall.h states the same convention for callers).
 */
#ifndef ARCH_SYSCALL_ABI_H
#define ARCH_SYSCALL_ABI_H

#include "trap.h"

/*
 * A call's number and arguments: not a copy, but the first words of its
 * trap frame (trap.h puts rax, rdi, rsi, rdx, r10, r8, r9 there), which
 * entry.asm hands the handler. A handler reads its arguments before it
 * blocks: a message delivered meanwhile overwrites them.
 */
struct syscall_args {
	uint64_t nr;
	uint64_t a[6];
};

_Static_assert(offsetof(struct trap_frame, rax) == 0 && offsetof(struct trap_frame, rdi) == 8 &&
                   offsetof(struct trap_frame, rsi) == 16 &&
                   offsetof(struct trap_frame, rdx) == 24 &&
                   offsetof(struct trap_frame, r10) == 32 &&
                   offsetof(struct trap_frame, r8) == 40 && offsetof(struct trap_frame, r9) == 48,
               "a call's arguments lie in its frame in struct syscall_args order");

/* The trap frame a call's arguments lie in (for calls with more registers: IPC). */
static inline struct trap_frame *syscall_abi_frame(const struct syscall_args *s)
{
	return (struct trap_frame *)s;
}

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

static inline void syscall_abi_result(struct trap_frame *f, int64_t v)
{
	f->rax = (uint64_t)v;
}

#endif /* ARCH_SYSCALL_ABI_H */
