/* The scheduler: fixed priorities, round robin within a priority. */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include "thread.h"

#define SCHED_HZ      100 /* timer interrupts a second */
#define SCHED_QUANTUM 2   /* ticks a thread runs before its equals get a turn */

/* What entry.asm tests after each system call before calling sched_reap, sched_preempt. */
extern uint32_t sched_nonempty;
extern struct thread *sched_dead;

void sched_init(void);
__attribute__((noreturn)) void sched_start(void);
void sched_add(struct thread *t);
void sched_yield(void);
void sched_block(void);
void sched_wake(struct thread *t);
void sched_preempt(void);
bool sched_ipc_handoff(struct thread *next);
void sched_tick(void);
void sched_remove(struct thread *t);
void sched_reap(void);
void sched_bury(struct thread *t);
__attribute__((noreturn)) void sched_leave(void);
#ifdef MICA_HOST
struct thread *sched_current(void); /* host tests: each test's fake */
#else
#include "percpu.h"

/* The thread running on this CPU: one load through GS (every system call asks, often twice). */
static inline struct thread *sched_current(void)
{
	struct thread *t;

	__asm__ volatile("movq %%gs:%c1, %0" : "=r"(t) : "i"(CPU_CURRENT));
	return t;
}
#endif

#endif /* KERNEL_SCHED_H */
