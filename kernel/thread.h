/* Threads: a kernel stack, a saved user context, a place in the scheduler. */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <mica/layout.h>
#include "ctx.h"
#include "kobj.h"
#include "phys.h"
#include "syscall_abi.h"
#include "trap.h"
#include "types.h"
#include "usercopy.h"

struct aspace;
struct endpoint;
struct notification;

enum thread_state {
	THREAD_RUNNABLE, /* running, or in a run queue */
	THREAD_BLOCKED,  /* in IPC */
	THREAD_ZOMBIE,   /* ended; its exit notice waits on the supervisor endpoint */
	THREAD_DEAD,     /* ended, waiting to be reaped */
};

/* A thread's kept IPC pages (ipc_view): where the fast path finds them without a walk. */
enum { IPC_VIEW_DESC, IPC_VIEW_SEND, IPC_VIEW_RECV, IPC_VIEWS };

/* Offsets in struct thread for entry.asm (sched.c checks them). */
#define THREAD_PRIO       32  /* prio */
#define THREAD_IPC_RESULT 144 /* ipc_result */

/* ipc_result of a faulting thread whose pager answered "kill". */
#define THREAD_PAGER_KILL 1

struct thread {
	struct kobj obj; /* references: its own until reaped, and its handles' */
	uint32_t id;
	/* Scheduler: run queue links, protected by running with interrupts off. */
	struct thread *next, *prev;
	uint8_t prio;
	uint8_t max_prio; /* the most it may give threads it creates (thread.h) */
	uint8_t state;
	uint32_t ticks_left;
	/* Context: where its kernel stack (in its block, below) was left. */
	uint64_t ksp;           /* saved by cpu_switch */
	struct aspace *as;      /* holds a reference; NULL for kernel threads */
	struct thread *as_next; /* in as->threads while not ended */
	/* Who hears of it: the pager (faults) and the supervisor (its end). */
	struct endpoint *pager, *supervisor; /* each holds a reference, or NULL */
	uint64_t pager_badge, supervisor_badge;
	/* IPC (ipc.c): where the thread waits, and whom it answers. */
	struct endpoint *ipc_ep; /* endpoint it is queued on, or NULL */
	struct thread *ipc_next; /* next in that endpoint's queue */
	uint8_t ipc_state;       /* enum ipc_state */
	bool ipc_call;           /* queued as a sender by call: wants a reply */
	bool ipc_kernel;         /* its message is kmsg (a fault or exit notice) */
	bool reply_lost;         /* server: the caller it owed a reply died */
	uint64_t ipc_badge;      /* badge of the handle it sends through */
	struct thread *reply_to; /* server: the caller it owes a reply */
	struct thread *replier;  /* caller: the server that owes it one */
	int64_t ipc_result;      /* set by whoever wakes it */
	uint64_t kill_code;      /* a pager's kill: w0 of its reply */
	struct ipc_regs kmsg;    /* the kernel's message on its behalf */
	/* The user pages its IPC calls touched (its own and partners'), kept
	 * while no mapping goes (usercopy.h): descriptors and buffers are
	 * reached through the direct map without a page walk. */
	struct usercopy_cache ipc_tlb;
	/* The pages of its last descriptor, send and receive buffer (fastpath.c). */
	struct usercopy_view ipc_view[IPC_VIEWS];
	/* Notifications (notify.c): the one it waits on, the one bound to its receive. */
	struct notification *ntf_wait, *bound_ntf; /* bound_ntf holds a reference */
	/* User CPU state besides the trap frame (ctx.c); the FPU area follows the object. */
	ctx_segs_t segs;
	/* Timer (timer.c): queued by deadline while it waits with one. */
	uint64_t deadline; /* the tick it is due at; 0: not queued */
	struct thread *timer_next, *timer_prev;
	/* Its IPC buffer (ipcbuf.c): the page it registered (0: none), which
	 * is also its FS base (ctx.c), and the kernel's view of the page. */
	vaddr_t ipcbuf;
	struct usercopy_view ipcbuf_view;
};

/*
 * A thread is one naturally aligned block of THREAD_BLOCK_SIZE bytes
 * (thread.c's slab cache), all it costs the kernel: the object at the
 * bottom, its FPU save area (ctx.c; room for the largest area ctx.c
 * enables), a canary word, and the kernel stack up to the top of the block.
 * The stack grows down towards the canary; a switch away from a thread
 * checks it (thread_stack_check), so an overflow into the FPU area panics
 * before anything else reads what it overwrote.
 */
#define THREAD_BLOCK_SIZE    (2 * MICA_PAGE_SIZE)
#define THREAD_FPU_OFFSET    ALIGN_UP(sizeof(struct thread), CTX_FPU_ALIGN)
#define THREAD_CANARY_OFFSET (THREAD_FPU_OFFSET + CTX_FPU_MAX)
#define THREAD_STACK_OFFSET  ALIGN_UP(THREAD_CANARY_OFFSET + sizeof(uint64_t), 16)
#define THREAD_STACK_SIZE    (THREAD_BLOCK_SIZE - THREAD_STACK_OFFSET)
/* The canary: a value a stack rarely holds, that compares as an immediate (imm32). */
#define THREAD_CANARY 0x57AC4CA9ULL
/* With kstack=measure, instead: every switch takes the slow path (thread_stack_slow). */
#define THREAD_CANARY_MEASURE 0x57AC4CAAULL

static inline void *thread_fpu(struct thread *t)
{
	return (uint8_t *)t + THREAD_FPU_OFFSET;
}

static inline uint64_t *thread_canary(struct thread *t)
{
	return (uint64_t *)((uint8_t *)t + THREAD_CANARY_OFFSET);
}

/* Who a new user thread reports to: endpoints (referenced by the thread) and badges. */
struct thread_links {
	struct endpoint *pager, *supervisor; /* NULL for none */
	uint64_t pager_badge, supervisor_badge;
};

/* The user context saved at the top of t's kernel stack (the top of its block). */
static inline struct trap_frame *thread_frame(const struct thread *t)
{
	return (struct trap_frame *)((uintptr_t)t + THREAD_BLOCK_SIZE) - 1;
}

void thread_stack_slow(struct thread *t);

/*
 * t leaves the CPU (sched.c): panic if its stack ran into its canary. One
 * compare; kstack=measure gives threads another canary, so that their
 * switches take the slow path and note how deep each stack went.
 */
static inline void thread_stack_check(struct thread *t)
{
	if (*thread_canary(t) != THREAD_CANARY)
		thread_stack_slow(t);
}

int thread_create_user(struct aspace *as, vaddr_t entry, vaddr_t stack, uint64_t arg, unsigned prio,
                       const struct thread_links *links, struct thread **out);
int thread_create_kernel(void (*fn)(void), unsigned prio, struct thread **out);
void thread_end(struct thread *t, unsigned reason, int64_t code, uint64_t addr, const char *why);
__attribute__((noreturn)) void thread_exit(int64_t code);
void thread_fault(struct trap_frame *f, uint64_t addr);
void thread_reap(struct thread *t);
void thread_release(struct thread *t);
uint32_t thread_live_user(void);
void thread_set_first(struct thread *t);
bool thread_first_failed(void);
void thread_stack_report(void);

#endif /* KERNEL_THREAD_H */
