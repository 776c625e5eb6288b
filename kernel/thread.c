/*
 * Threads. Each is one block of THREAD_BLOCK_SIZE bytes from the thread
 * cache (slab.c), laid out in thread.h: the object, its FPU save area
 * (ctx.c), a canary, and its kernel stack, reached through the direct
 * map. The top of the stack holds the thread's user context (struct
 * trap_frame) whenever it is in the kernel; below it, cpu_switch saves the
 * kernel context.
 *
 * A thread ends in one place, thread_end, whatever the cause (exit, an
 * exception, its pager, thread_kill, its address space destroyed), and
 * whether it is the running thread or not: the kernel is not preemptible,
 * so a thread that is not running is only data (queue links, IPC state)
 * and is never resumed once it has ended. An ended thread with a
 * supervisor stays a zombie until its exit notice is received; then, or
 * at once without one, it is reaped by the next thread to run (nothing can
 * free the stack it is running on). The object itself goes with its last
 * handle.
 */
#include <mica/error.h>
#include <mica/fault.h>
#include <mica/layout.h>
#include <mica/thread.h>
#include "aspace.h"
#include "cmdline.h"
#include "cpu.h"
#include "gdt.h"
#include "ipc.h"
#include "kprintf.h"
#include "lib/string.h"
#include "phys.h"
#include "panic.h"
#include "sched.h"
#include "slab.h"
#include "thread.h"

extern char thread_first_return[];

static uint32_t next_id = 1;
static uint32_t live_user; /* user threads not yet ended */

/* The first task's first thread, and whether it ended badly (thread_first_failed). */
static struct thread *first_thread;
static bool first_failed;

/* Remember t as the first task's first thread (boottask.c). */
void thread_set_first(struct thread *t)
{
	first_thread = t;
}

/*
 * Did the first task's first thread end killed or with a non-zero code?
 * idle=exit then leaves QEMU with the failure status: the first task
 * speaks for the whole run (the pager passes on init's verdict).
 */
bool thread_first_failed(void)
{
	return first_failed;
}

/* Thread blocks: one per slab of two frames, aligned to its size. */
static struct slab_cache thread_cache = SLAB_CACHE("thread", THREAD_BLOCK_SIZE, 2);
/* Room for the deepest kernel path with a wide margin (kstack=measure: about 1.4 KiB). */
_Static_assert(THREAD_STACK_SIZE >= 6 * 1024, "a thread's object and FPU area crowd its stack");

/*
 * kstack=measure on the command line: each new stack is filled with a
 * pattern and given THREAD_CANARY_MEASURE, so each switch away from the
 * thread takes thread_stack_slow, which finds the lowest word its stack
 * ever overwrote (the low-water mark); the deepest is reported when the
 * run ends (thread_stack_report). A debugging aid: the fill costs a write
 * per stack word at creation, the scan a read per unused word per switch.
 */
#define STACK_PATTERN 0x5354414b5354414bULL
static bool measuring;
static bool measure_read; /* the command line was read */
static uint64_t deepest;  /* the most stack bytes any thread used */
static uint32_t deepest_id;

static uint64_t *stack_bottom(struct thread *t)
{
	return (uint64_t *)((uint8_t *)t + THREAD_STACK_OFFSET);
}

/* Note how deep t's stack has ever been. */
static void stack_measure(struct thread *t)
{
	const uint64_t *w = stack_bottom(t), *top = (uint64_t *)thread_frame(t);

	while (w < top && *w == STACK_PATTERN)
		w++;
	uint64_t used = (uint64_t)((uintptr_t)((uint8_t *)t + THREAD_BLOCK_SIZE) - (uintptr_t)w);
	if (used > deepest) {
		deepest = used;
		deepest_id = t->id;
	}
}

/*
 * t's canary is not THREAD_CANARY (thread_stack_check): measure its stack
 * (kstack=measure), or panic: its stack overflowed into its FPU area.
 */
void thread_stack_slow(struct thread *t)
{
	if (measuring && *thread_canary(t) == THREAD_CANARY_MEASURE) {
		stack_measure(t);
		return;
	}
	panic("kernel stack overflow: thread %u ran past its %lu-byte stack (canary at %p)", t->id,
	      (uint64_t)THREAD_STACK_SIZE, (void *)thread_canary(t));
}

/* kstack=measure: the fixed line with the deepest stack seen (tests read it). */
void thread_stack_report(void)
{
	if (measuring)
		kprintf("kstack: deepest %lu of %lu bytes (thread %u)\n", deepest,
		        (uint64_t)THREAD_STACK_SIZE, deepest_id);
}

/* Allocate a thread's block; the caller fills in the context. */
static int thread_alloc(unsigned prio, struct thread **out)
{
	struct thread *t = slab_alloc(&thread_cache);

	if (!t)
		return MICA_ENOMEM;
	if (!measure_read) {
		const char *v = cmdline_get("kstack");

		measuring = v && strcmp(v, "measure") == 0;
		measure_read = true;
	}
	memset(t, 0, sizeof(*t));
	kobj_init(&t->obj, MICA_OBJ_THREAD);
	t->id = next_id++;
	t->prio = (uint8_t)prio;
	*thread_canary(t) = measuring ? THREAD_CANARY_MEASURE : THREAD_CANARY;
	if (measuring)
		for (uint64_t *w = stack_bottom(t);
		     w < (uint64_t *)((uint8_t *)t + THREAD_BLOCK_SIZE); w++)
			*w = STACK_PATTERN;
	ctx_thread_init(t);
	*out = t;
	return MICA_OK;
}

/*
 * Prepare the switch frame that cpu_switch pops (r15, r14, r13, r12, rbx,
 * rbp, RFLAGS, then the return address) just below `below`: the thread
 * starts in the kernel with clean RFLAGS (interrupts off).
 */
static void push_switch_frame(struct thread *t, void *below, uint64_t ret)
{
	uint64_t *sp = below;

	*--sp = ret;
	*--sp = RFLAGS_KERNEL;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	t->ksp = (uint64_t)sp;
}

/*
 * Create a thread in `as` that starts in user mode at `entry` with RSP =
 * `stack` and RDI = `arg`, reporting to `links`, and make it runnable. The
 * addresses are checked to lie in the user half (what is mapped there is
 * the thread's business: a bad entry faults the thread, not the kernel).
 * Errors: MICA_ERANGE, MICA_EINVAL (priority), MICA_ENOMEM.
 */
int thread_create_user(struct aspace *as, vaddr_t entry, vaddr_t stack, uint64_t arg, unsigned prio,
                       const struct thread_links *links, struct thread **out)
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
	f->rflags = RFLAGS_USER_SET;
	f->rsp = stack;
	f->ss = GDT_USER_DATA | 3;
	f->rdi = arg;
	push_switch_frame(t, f, (uint64_t)thread_first_return);
	/* Its address space and endpoints, each with a reference. */
	kobj_ref(&as->obj);
	t->as = as;
	t->as_next = as->threads;
	as->threads = t;
	as->nthreads++;
	if (links->pager) {
		endpoint_hold(links->pager);
		t->pager = links->pager;
		t->pager_badge = links->pager_badge;
	}
	if (links->supervisor) {
		endpoint_hold(links->supervisor);
		t->supervisor = links->supervisor;
		t->supervisor_badge = links->supervisor_badge;
	}
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

/* Take t out of its address space's list; the last thread out empties its handle table. */
static void leave_aspace(struct thread *t)
{
	struct aspace *as = t->as;

	for (struct thread **p = &as->threads; *p; p = &(*p)->as_next) {
		if (*p == t) {
			*p = t->as_next;
			break;
		}
	}
	t->as_next = NULL;
	/* Nobody is left to use the handles; clearing them also breaks the
	 * cycle of a task holding a handle to its own address space. */
	if (--as->nthreads == 0) {
		as->emptied = true;
		handle_table_clear(&as->handles);
	}
}

/*
 * End user thread t (running or not; not already ended) for `reason`
 * (MICA_EXIT_*), with `code` and the faulting address `addr` for its exit
 * notice; `why` names the cause in the log. Does not return if t is the
 * running thread.
 */
void thread_end(struct thread *t, unsigned reason, int64_t code, uint64_t addr, const char *why)
{
	uint64_t rip = thread_frame(t)->rip;

	if (reason == MICA_EXIT_NORMAL)
		kprintf("thread %u exited: code %ld\n", t->id, code);
	else
		kprintf("thread %u killed: %s at rip 0x%lx\n", t->id, why, rip);
	if (t == first_thread)
		first_failed = reason != MICA_EXIT_NORMAL || code != 0;
	ipc_detach(t);
	ctx_forget(t);
	sched_remove(t);
	live_user--;
	leave_aspace(t);
	if (t->supervisor) {
		t->kmsg = (struct ipc_regs){MICA_LABEL_EXIT,
		                            {t->id, reason, (uint64_t)code, addr, rip, 0, 0, 0}};
		t->state = THREAD_ZOMBIE;
		ipc_notify(t, t->supervisor, t->supervisor_badge);
	} else {
		sched_bury(t);
	}
	if (t == sched_current())
		sched_leave();
}

/* End the current thread with `code`. */
void thread_exit(int64_t code)
{
	thread_end(sched_current(), MICA_EXIT_NORMAL, code, 0, NULL);
	__builtin_unreachable();
}

/*
 * The current thread took exception f->vector in user mode (a page fault
 * at `addr`). With a pager, a page fault becomes a call to it: the pager
 * resumes the thread (this returns, and the access is retried) or kills
 * it. Anything else, or no pager, or a pager that is gone: the thread
 * dies, and its supervisor hears why.
 */
void thread_fault(struct trap_frame *f, uint64_t addr)
{
	struct thread *t = sched_current();
	const char *why;

	if (f->vector == TRAP_PF && t->pager) {
		uint64_t access = ((f->error & 2) ? MICA_FAULT_WRITE : 0) |
		                  ((f->error & 16) ? MICA_FAULT_EXEC : 0) |
		                  ((f->error & 1) ? MICA_FAULT_PRESENT : 0);

		t->kmsg =
		    (struct ipc_regs){MICA_LABEL_FAULT, {addr, access, f->rip, t->id, 0, 0, 0, 0}};
		int64_t r = ipc_fault_call(t, t->pager, t->pager_badge);
		if (r == MICA_OK)
			return;
		if (r == THREAD_PAGER_KILL)
			thread_end(t, MICA_EXIT_PAGER, (int64_t)t->kill_code, addr,
			           "killed by its pager");
		why = "#PF page fault (pager gone)";
	} else {
		why = trap_name(f->vector); /* named only when it ends the thread */
	}
	thread_end(t, MICA_EXIT_FAULT, (int64_t)f->vector, f->vector == TRAP_PF ? addr : 0, why);
	__builtin_unreachable();
}

/*
 * Drop an ended thread's references; its block (and stack) waits for its
 * handles. Never runs on t's own stack (sched.c reaps after a switch).
 */
void thread_reap(struct thread *t)
{
	if (t->pager)
		endpoint_drop(t->pager);
	if (t->supervisor)
		endpoint_drop(t->supervisor);
	t->pager = t->supervisor = NULL;
	if (t->as)
		kobj_unref(&t->as->obj);
	t->as = NULL;
	kobj_unref(&t->obj);
}

/* The last reference is gone (the thread was reaped first): free its block. */
void thread_release(struct thread *t)
{
	if (measuring)
		thread_stack_slow(t);
	slab_free(&thread_cache, t);
}

/* User threads created and not yet ended. */
uint32_t thread_live_user(void)
{
	return live_user;
}
