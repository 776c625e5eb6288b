/*
 * Threads. Each has one frame for the object and THREAD_STACK_PAGES
 * contiguous frames of kernel stack, reached through the direct map. The
 * top of the stack holds the thread's user context (struct trap_frame)
 * whenever it is in the kernel; below it, cpu_switch saves the kernel
 * context. A thread that exits is reaped by the next thread to run, since
 * nothing can free the stack it is running on.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include <mica/syscall.h>
#include "aspace.h"
#include "frame.h"
#include "gdt.h"
#include "ipc.h"
#include "kprintf.h"
#include "lib/string.h"
#include "phys.h"
#include "sched.h"
#include "thread.h"

extern char thread_first_return[];

#define RFLAGS_IF       (1ULL << 9)
#define RFLAGS_RESERVED (1ULL << 1)

static uint32_t next_id = 1;
static uint32_t live_user; /* user threads not yet reaped */

/* The user context saved at the top of t's kernel stack. */
struct trap_frame *thread_frame(struct thread *t)
{
	uint8_t *top = (uint8_t *)phys_to_virt(t->kstack) + THREAD_STACK_PAGES * MICA_PAGE_SIZE;

	return (struct trap_frame *)top - 1;
}

/* Allocate a thread object and its stack; the caller fills in the context. */
static int thread_alloc(unsigned prio, struct thread **out)
{
	paddr_t obj, stack;

	if (frame_alloc(&obj) != MICA_OK)
		return MICA_ENOMEM;
	if (frame_alloc_run(THREAD_STACK_PAGES, 1, &stack) != MICA_OK) {
		(void)frame_free(obj, 1);
		return MICA_ENOMEM;
	}
	struct thread *t = phys_to_virt(obj);
	memset(t, 0, sizeof(*t));
	t->obj = (struct kobj){MICA_OBJ_THREAD, 1};
	t->id = next_id++;
	t->prio = (uint8_t)prio;
	t->kstack = stack;
	*out = t;
	return MICA_OK;
}

/*
 * Prepare the switch frame that cpu_switch pops (r15, r14, r13, r12, rbx,
 * rbp, then the return address) just below `below`.
 */
static void push_switch_frame(struct thread *t, void *below, uint64_t ret)
{
	uint64_t *sp = below;

	*--sp = ret;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	t->ksp = (uint64_t)sp;
}

/*
 * Create a thread in `as` that starts in user mode at `entry` with RSP =
 * `stack` and RDI = `arg`, and make it runnable. The addresses are checked
 * to lie in the user half (what is mapped there is the thread's business:
 * a bad entry faults the thread, not the kernel). Errors: MICA_ERANGE,
 * MICA_EINVAL (priority), MICA_ENOMEM.
 */
int thread_create_user(struct aspace *as, vaddr_t entry, vaddr_t stack, uint64_t arg, unsigned prio,
                       struct thread **out)
{
	struct thread *t;

	/* Entry and stack in the user half, a valid priority. */
	if (entry < MICA_USER_BASE || entry >= MICA_USER_TOP || stack < MICA_USER_BASE ||
	    stack > MICA_USER_TOP)
		return MICA_ERANGE;
	if (prio > MICA_PRIO_MAX)
		return MICA_EINVAL;
	if (thread_alloc(prio, &t) != MICA_OK)
		return MICA_ENOMEM;
	struct trap_frame *f = thread_frame(t);
	memset(f, 0, sizeof(*f));
	f->rip = entry;
	f->cs = GDT_USER_CODE | 3;
	f->rflags = RFLAGS_IF | RFLAGS_RESERVED;
	f->rsp = stack;
	f->ss = GDT_USER_DATA | 3;
	f->rdi = arg;
	push_switch_frame(t, f, (uint64_t)thread_first_return);
	t->as = as;
	as->threads++;
	live_user++;
	sched_add(t);
	*out = t;
	return MICA_OK;
}

/* Create a kernel thread running fn (which must not return). Errors: MICA_ENOMEM. */
int thread_create_kernel(void (*fn)(void), unsigned prio, struct thread **out)
{
	struct thread *t;

	if (thread_alloc(prio, &t) != MICA_OK)
		return MICA_ENOMEM;
	push_switch_frame(t, thread_frame(t), (uint64_t)fn);
	*out = t;
	return MICA_OK;
}

/* End the current thread with `code`; it is reaped after the next switch. */
void thread_exit(int64_t code)
{
	struct thread *t = sched_current();

	t->exit_code = code;
	kprintf("thread %u exited: code %ld\n", t->id, code);
	ipc_thread_dead(t);
	sched_exit();
}

/* Kill the current (user) thread because of `why` at the context f. */
void thread_kill(const char *why, struct trap_frame *f)
{
	struct thread *t = sched_current();

	kprintf("thread %u killed: %s at rip 0x%lx\n", t->id, why, f->rip);
	t->exit_code = -1;
	ipc_thread_dead(t);
	sched_exit();
}

/* Free a dead thread, and its address space with its last thread. */
void thread_reap(struct thread *t)
{
	struct aspace *as = t->as;

	(void)frame_free(t->kstack, THREAD_STACK_PAGES);
	(void)frame_free(virt_to_phys(t), 1);
	if (as) {
		live_user--;
		if (--as->threads == 0)
			aspace_destroy(as);
	}
}

/* User threads created and not yet reaped. */
uint32_t thread_live_user(void)
{
	return live_user;
}
