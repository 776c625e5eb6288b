/*
 * Scheduler. One run queue per priority (circular, doubly linked) and a
 * bitmap of the non-empty ones, so picking the next thread is a find-first
 * bit. The running thread stays at the head of its queue; at the end of its
 * quantum, or when it yields, it moves to the tail. The idle thread is in
 * no queue and runs when they are all empty, halting with interrupts on.
 *
 * The kernel runs with interrupts off (only the idle thread enables them),
 * so nothing here needs a lock on one CPU.
 */
#include <stddef.h>
#include <mica/thread.h>
#include "aspace.h"
#include "cmdline.h"
#include "cpu.h"
#include "ctx.h"
#include "frame.h"
#include "ioport.h"
#include "kprintf.h"
#include "lib/string.h"
#include "mem.h"
#include "panic.h"
#include "percpu.h"
#include "phys.h"
#include "sched.h"
#include "timer.h"
#include "trace.h"
#include "vm.h"

extern void cpu_switch(uint64_t *save_rsp, uint64_t rsp);
__attribute__((noreturn)) extern void cpu_handoff(uint64_t *save_rsp, struct trap_frame *frame,
                                                  uint64_t rsp);

/* Head of each ring (ipcfast.asm's handoff keeps it as sched_ipc_handoff does). */
struct thread *sched_queue[MICA_PRIO_MAX + 1];
/* entry.asm reads these two after every system call (is a reap or a preemption due?). */
uint32_t sched_nonempty; /* bit p: queue[p] has threads */
_Static_assert(offsetof(struct thread, prio) == THREAD_PRIO, "entry.asm reads a thread's prio");
_Static_assert(offsetof(struct cpu, current) == CPU_CURRENT, "entry.asm reads the current thread");
_Static_assert(offsetof(struct thread, ipc_result) == THREAD_IPC_RESULT,
               "entry.asm reads a resumed thread's result");
static struct thread *idle;
struct thread *sched_dead;  /* exited, to be reaped, linked by next */
static bool exit_when_idle; /* idle=exit: leave QEMU when no user thread is left */

static void enqueue(struct thread *t)
{
	struct thread **q = &sched_queue[t->prio];

	t->ticks_left = SCHED_QUANTUM; /* at the tail: a fresh turn */
	if (!*q) {
		t->next = t->prev = t;
		*q = t;
		sched_nonempty |= 1u << t->prio;
	} else {
		t->prev = (*q)->prev;
		t->next = *q;
		(*q)->prev->next = t;
		(*q)->prev = t;
	}
}

static void dequeue(struct thread *t)
{
	struct thread **q = &sched_queue[t->prio];

	if (t->next == t) {
		*q = NULL;
		sched_nonempty &= ~(1u << t->prio);
	} else {
		t->prev->next = t->next;
		t->next->prev = t->prev;
		if (*q == t)
			*q = t->next;
	}
	t->next = t->prev = NULL;
}

/* The thread that should run: the head of the highest non-empty queue. */
static struct thread *pick(void)
{
	if (!sched_nonempty)
		return idle;
	return sched_queue[31 - __builtin_clz(sched_nonempty)];
}

/*
 * Free the threads that ended and are done with (never the running one:
 * it cannot be on the list). Runs at each switch and at the end of each
 * system call, never inside a loop over a queue a reap could change.
 */
void sched_reap(void)
{
	while (sched_dead) {
		struct thread *t = sched_dead;

		sched_dead = t->next;
		thread_reap(t);
	}
}

/*
 * Everything a switch from prev (running) to next does but the change of
 * kernel stacks: next becomes the CPU's current thread, with its kernel
 * stack for the next entry from user mode, its address space and I/O
 * ports, its FPU and segment registers. ipcfast.asm (ipcfast_switch) does
 * the same for the IPC fast path: a change here goes there too.
 */
static inline void switch_enter(struct thread *prev, struct thread *next)
{
	cpu_this()->current = next;
	trace_switch(prev, next);
	thread_stack_check(prev); /* it ran on its stack last: did it overflow? */
	percpu_set_kernel_stack((uint64_t)(thread_frame(next) + 1));
	/* Compare with what is loaded: sched_exit may have left the kernel's tables. */
	if (next->as && (cpu_read_cr3() & ~0xFFFULL) != next->as->root) {
		cpu_write_cr3(next->as->root);
		ioport_switch(next->as); /* its I/O ports open, the last one's closed */
	}
	ctx_switch(prev, next); /* FPU and segment registers: each thread its own */
}

/*
 * Run `next` instead of the current thread, for the rest of its turn: a
 * thread gets a fresh quantum only when it goes to the tail of its ring
 * (enqueue, yield), so one that keeps being preempted by a thread it wakes
 * still uses its turn up and its equals get theirs.
 */
static void switch_to(struct thread *next)
{
	struct thread *prev = cpu_this()->current;

	if (next == prev)
		return;
	switch_enter(prev, next);
	cpu_switch(&prev->ksp, next->ksp);
	sched_reap(); /* back on prev's stack: nobody runs on the dead ones now */
}

/* Make a new thread runnable. */
void sched_add(struct thread *t)
{
	t->state = THREAD_RUNNABLE;
	enqueue(t);
}

/* Give the CPU to the next thread of the same priority, if any. */
void sched_yield(void)
{
	struct thread *t = sched_current();

	if (t != idle && t->state == THREAD_RUNNABLE) {
		/* To the tail of its ring, with a fresh turn: the head moves on. */
		t->ticks_left = SCHED_QUANTUM;
		sched_queue[t->prio] = t->next;
	}
	switch_to(pick());
}

/* Block the current thread (IPC); it runs again after sched_wake. */
void sched_block(void)
{
	struct thread *t = sched_current();

	dequeue(t);
	t->state = THREAD_BLOCKED;
	switch_to(pick());
}

/* Make a blocked thread runnable again (at the tail of its queue). */
void sched_wake(struct thread *t)
{
	if (t->state != THREAD_BLOCKED)
		return;
	t->state = THREAD_RUNNABLE;
	enqueue(t);
}

/*
 * At the end of a system call: if the call woke a thread of higher
 * priority, it runs now. So the running thread is always one of the
 * highest priority that can run, which sched_ipc_handoff relies on.
 */
void sched_preempt(void)
{
	struct thread *t = sched_current();

	if ((uint64_t)sched_nonempty >> (t->prio + 1))
		switch_to(pick()); /* t stays at the head of its ring */
}

/*
 * May the current thread t block and hand the CPU straight to `next`
 * (blocked), as the scheduler would choose after waking next? Yes if next
 * has t's priority (it takes t's turn), or if no other runnable thread
 * would come before it. (sched_preempt keeps t one of the highest
 * priority that can run.)
 */
static inline bool can_handoff(const struct thread *t, const struct thread *next)
{
	uint32_t others = sched_nonempty;

	if (next->prio == t->prio)
		return true;
	if (t->next == t)
		others &= ~(1u << t->prio); /* t is alone in its ring, and leaves it */
	return (others >> next->prio) == 0;
}

/*
 * The IPC fast path's switch: if the scheduler would run `next` (blocked)
 * were the current thread to block now, the current thread blocks and next
 * runs at once, without a pass through the run queues. At equal priority
 * next takes the current thread's place in the ring and the rest of its
 * quantum, so a pair of threads calling each other shares one turn and the
 * others of their priority still get theirs. Then this does not return:
 * the current thread keeps no kernel context but its trap frame
 * (cpu_handoff), and whoever runs it again (a switch, or its partner's
 * handoff) resumes it where its system call returns, with its ipc_result
 * as the call's result (fastpath_resume in entry.asm). The caller must
 * need nothing else on its stack. False, having changed nothing, if
 * another thread should run first: the caller then wakes next and blocks.
 * ipcfast.asm (ipcfast_handoff) does the equal-priority case the same way.
 */
bool sched_ipc_handoff(struct thread *next)
{
	struct thread *t = cpu_this()->current;

	if (!can_handoff(t, next))
		return false;
	t->state = THREAD_BLOCKED;
	next->state = THREAD_RUNNABLE;
	if (next->prio == t->prio) {
		struct thread **q = &sched_queue[t->prio];

		if (t->next == t) {
			next->next = next->prev = next;
		} else {
			next->next = t->next;
			next->prev = t->prev;
			t->prev->next = next;
			t->next->prev = next;
		}
		if (*q == t)
			*q = next;
		t->next = t->prev = NULL;
		next->ticks_left = t->ticks_left;
	} else {
		dequeue(t);
		enqueue(next);
	}
	switch_enter(t, next);
	cpu_handoff(&t->ksp, thread_frame(t), next->ksp);
}

/*
 * Timer tick: wake the threads whose deadline it is (timer.c), then
 * preempt at the end of the quantum or for a higher priority (one just
 * woken, too).
 */
void sched_tick(void)
{
	struct thread *t = sched_current();

	timer_tick();
	if (t == idle || (t->ticks_left && --t->ticks_left)) {
		if (pick() != t && (t == idle || pick()->prio > t->prio))
			switch_to(pick());
		return;
	}
	sched_yield();
}

/* Take an ending thread out of the run queue (if it is in it). */
void sched_remove(struct thread *t)
{
	if (t->state == THREAD_RUNNABLE)
		dequeue(t);
}

/* An ended thread is done with: reap it at the next switch. */
void sched_bury(struct thread *t)
{
	t->state = THREAD_DEAD;
	t->next = sched_dead;
	sched_dead = t;
}

/* The current thread has ended (thread_end): run another, never come back. */
void sched_leave(void)
{
	struct thread *t = sched_current();

	/* The address space may go with this thread: run on the kernel's tables. */
	cpu_write_cr3(vm_kernel_root());
	switch_to(pick());
	panic("sched: ended thread %u resumed", t->id);
}

/* The idle thread: reap, leave QEMU if asked and nothing is left, halt. */
static void idle_loop(void)
{
	for (;;) {
		sched_reap();
		if (exit_when_idle && thread_live_user() == 0) {
			struct frame_stats st;

			frame_stats(&st);
			kprintf(FRAME_STATS_LINE, st.total, st.free, st.used);
			mem_stats_print();
			thread_stack_report();
			kprintf("kernel: all user threads have exited\n");
			trace_dump_at_exit();
			if (thread_first_failed()) {
				kprintf("kernel: the first task failed\n");
				cpu_qemu_exit(QEMU_EXIT_FAILURE);
			}
			cpu_qemu_exit(QEMU_EXIT_SUCCESS);
		}
		__asm__ volatile("sti; hlt; cli");
		if (pick() != idle)
			switch_to(pick());
	}
}

/* Create the idle thread. */
void sched_init(void)
{
	const char *v = cmdline_get("idle");

	exit_when_idle = v && strcmp(v, "exit") == 0;
	if (thread_create_kernel(idle_loop, 0, &idle) != 0)
		panic("sched: no memory for the idle thread");
}

/* Leave the boot stack for the first thread; never returns. */
void sched_start(void)
{
	/* Stands for kmain's context, never resumed; room for the canary switch_to checks. */
	static union {
		struct thread t;
		uint8_t upto_canary[THREAD_STACK_OFFSET];
	} boot;

	*thread_canary(&boot.t) = THREAD_CANARY;
	cpu_this()->current = &boot.t;
	switch_to(pick());
	panic("sched: boot context resumed");
}
