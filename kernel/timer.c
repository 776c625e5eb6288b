/*
 * Time: the count of timer ticks since boot, the clock user space reads
 * (include/mica/time.h), and the timer queue of threads that wait with a
 * deadline (an IPC timeout or a sleep: ipc.c).
 *
 * The queue is doubly linked through the threads, sorted by deadline
 * (equal ones in the order they were armed, so of two threads due at the
 * same tick the first to wait is the first to hear). A tick looks at the
 * head only: O(1) when nothing is due, which is nearly every tick.
 * Cancelling is O(1); arming walks from the tail, so a deadline later than
 * every other (the common case, since most timeouts are alike) is O(1).
 * The kernel runs with interrupts off on one CPU: no lock.
 */
#include "ipc.h"
#include "pic.h"
#include "timer.h"

static uint64_t ticks;                   /* since pit_init; the deadlines' unit */
static struct thread *queue, *queue_end; /* by deadline, earliest first */

/* Ticks since boot. */
uint64_t timer_ticks(void)
{
	return ticks;
}

/* The clock: ns since boot, in whole ticks (monotonic: ticks only grow). */
uint64_t timer_clock_ns(void)
{
	return ticks * pit_period_ns();
}

/*
 * The tick by which a wait of timeout_ns (at most MICA_TIMEOUT_MAX,
 * checked by the caller) from now has surely lasted that long: the
 * timeout in whole ticks rounded up, plus the tick already under way.
 */
uint64_t timer_deadline(uint64_t timeout_ns)
{
	uint64_t period = pit_period_ns();

	return ticks + (timeout_ns + period - 1) / period + 1;
}

/* Put t (blocked, not queued) in the queue, due at tick `deadline` (> now). */
void timer_arm(struct thread *t, uint64_t deadline)
{
	struct thread *after = queue_end;

	while (after && after->deadline > deadline)
		after = after->timer_prev;
	t->deadline = deadline;
	t->timer_prev = after;
	t->timer_next = after ? after->timer_next : queue;
	if (t->timer_next)
		t->timer_next->timer_prev = t;
	else
		queue_end = t;
	if (after)
		after->timer_next = t;
	else
		queue = t;
}

/* Take t out of the queue, if it is there (it was woken, or it is ending). */
void timer_cancel(struct thread *t)
{
	if (!t->deadline)
		return;
	if (t->timer_prev)
		t->timer_prev->timer_next = t->timer_next;
	else
		queue = t->timer_next;
	if (t->timer_next)
		t->timer_next->timer_prev = t->timer_prev;
	else
		queue_end = t->timer_prev;
	t->timer_next = t->timer_prev = NULL;
	t->deadline = 0;
}

/*
 * The timer interrupt (sched_tick, before it decides whom to run): one
 * more tick, and every thread now due leaves the queue and its wait
 * (ipc_expire wakes it), so the scheduler already sees it runnable.
 */
void timer_tick(void)
{
	ticks++;
	while (queue && queue->deadline <= ticks) {
		struct thread *t = queue;

		timer_cancel(t);
		ipc_expire(t);
	}
}
