/* Threads: a kernel stack, a saved user context, a place in the scheduler. */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include "kobj.h"
#include "trap.h"
#include "types.h"

struct aspace;

enum thread_state {
	THREAD_RUNNABLE, /* running, or in a run queue */
	THREAD_BLOCKED,
	THREAD_DEAD, /* waiting to be reaped */
};

#define THREAD_STACK_PAGES 4

struct thread {
	struct kobj obj;
	uint32_t id;
	/* Scheduler: run queue links, protected by running with interrupts off. */
	struct thread *next, *prev;
	uint8_t prio;
	uint8_t state;
	uint32_t ticks_left;
	/* Context: the kernel stack and where its saved registers are. */
	uint64_t ksp;      /* saved by cpu_switch */
	paddr_t kstack;    /* THREAD_STACK_PAGES frames */
	struct aspace *as; /* NULL for kernel threads */
	int64_t exit_code;
	/* IPC (ipc.c): where the thread waits, and whom it answers. */
	struct endpoint *ipc_ep; /* endpoint it is queued on, or NULL */
	struct thread *ipc_next; /* next in that endpoint's queue */
	uint8_t ipc_state;       /* enum ipc_state */
	bool ipc_call;           /* queued as a sender by call: wants a reply */
	uint64_t ipc_badge;      /* badge of the handle it sends through */
	struct thread *reply_to; /* server: the caller it owes a reply */
	struct thread *replier;  /* caller: the server that owes it one */
	int64_t ipc_result;      /* set by whoever wakes it */
};

int thread_create_user(struct aspace *as, vaddr_t entry, vaddr_t stack, uint64_t arg, unsigned prio,
                       struct thread **out);
int thread_create_kernel(void (*fn)(void), unsigned prio, struct thread **out);
struct trap_frame *thread_frame(struct thread *t);
__attribute__((noreturn)) void thread_exit(int64_t code);
__attribute__((noreturn)) void thread_kill(const char *why, struct trap_frame *f);
void thread_reap(struct thread *t);
uint32_t thread_live_user(void);

#endif /* KERNEL_THREAD_H */
