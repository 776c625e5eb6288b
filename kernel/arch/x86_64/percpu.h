/*
 * The per-CPU area, reached through GS in kernel mode (swapgs on every
 * entry from user mode). entry.asm and isr.asm use the offsets below.
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#include "gdt.h"
#include "types.h"

struct thread;

struct cpu {
	struct cpu *self;       /* gs:0, so C can find the area */
	uint64_t kernel_rsp;    /* gs:8, the current thread's kernel stack top */
	uint64_t user_rsp;      /* gs:16, scratch: user RSP during syscall entry */
	struct thread *current; /* gs:24 */
};

#define CPU_KERNEL_RSP 8
#define CPU_USER_RSP   16
#define CPU_CURRENT    24

void percpu_init(void);

static inline struct cpu *cpu_this(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/* The kernel stack used on the next entry from user mode (syscall and interrupts). */
static inline void percpu_set_kernel_stack(uint64_t top)
{
	cpu_this()->kernel_rsp = top;
	gdt_set_rsp0(top);
}

#endif /* ARCH_PERCPU_H */
