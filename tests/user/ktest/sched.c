/*
 * Scheduling fairness: a thread that keeps waking a higher-priority one
 * (and so is preempted at every send) still uses up its turn, and its
 * equals get theirs.
 */
#include "ktest.h"

#define K 2000000
static volatile int x_ran;
static volatile long a_sends;
static char st[3][4096] __attribute__((aligned(16)));

static void consumer(uint64_t ep)
{
	struct mica_msg m = {0};
	for (;;)
		(void)mica_recv((mica_handle_t)ep, &m, 0, 0);
}

static void producer(uint64_t arg)
{
	mica_handle_t ep = (mica_handle_t)(arg & 0xffff), done = (mica_handle_t)(arg >> 16);
	struct mica_msg m = {.label = 1};
	long i;

	for (i = 0; i < K && !x_ran; i++)
		(void)mica_send(ep, &m, 0);
	a_sends = i;
	m.label = 1;
	(void)mica_send(done, &m, 0);
	mica_thread_exit(0);
}

static void other(uint64_t done)
{
	struct mica_msg m = {.label = 2};
	x_ran = 1;
	(void)mica_send((mica_handle_t)done, &m, 0);
	mica_thread_exit(0);
}

static long start(void (*f)(uint64_t), int i, uint64_t arg, unsigned prio)
{
	struct mica_thread_params p = {.entry = (uint64_t)f,
	                               .stack_top = (uint64_t)(st[i] + sizeof(st[i])),
	                               .arg = arg,
	                               .priority = prio,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = MICA_HANDLE_NONE};
	return mica_thread_create(self_as, &p);
}

void test_starvation(void)
{
	long ep = mica_endpoint_create(), done = mica_endpoint_create();
	struct mica_msg m = {0};

	long h = start(consumer, 0, (uint64_t)ep, 16);
	yield_n(3); /* the consumer waits in recv */
	start(producer, 1, (uint64_t)ep | ((uint64_t)done << 16), 15);
	start(other, 2, (uint64_t)done, 15);
	(void)mica_recv((mica_handle_t)done, &m, 0, 0);
	long first = (long)m.label;
	(void)mica_recv((mica_handle_t)done, &m, 0, 0);
	mica_thread_kill((mica_handle_t)h, 0);
	mica_handle_close((mica_handle_t)h);
	mica_handle_close((mica_handle_t)ep);
	mica_handle_close((mica_handle_t)done);
	result("sched.no_starvation",
	       first == 2 ? 0 : "equal-priority thread starved, sends:", a_sends);
}

/*
 * A thread woken by a system call that outranks the caller runs when that
 * call ends, not at the next timer tick: the IPC fast path's handoff relies
 * on the running thread being one of the highest priority.
 */
static volatile int high_ran;

static void high_receiver(uint64_t ep)
{
	struct mica_msg m = {0};

	(void)mica_recv((mica_handle_t)ep, &m, 0, 0);
	high_ran = 1;
	mica_thread_exit(0);
}

void test_wake_preempts(void)
{
	long ep = mica_endpoint_create();
	struct mica_msg m = {.label = 3};

	long h = start(high_receiver, 0, (uint64_t)ep, 20);
	if (ep < 0 || h < 0)
		return result("sched.wake_preempts", "endpoint or thread create gave",
		              ep < 0 ? ep : h);
	mica_yield(); /* it has run already (it outranks us); now surely waiting in recv */
	long r = mica_send((mica_handle_t)ep, &m, 0);
	int ran = high_ran; /* read at once: before any timer tick could switch */
	mica_handle_close((mica_handle_t)h);
	mica_handle_close((mica_handle_t)ep);
	if (r != 0)
		return result("sched.wake_preempts", "send gave", r);
	result("sched.wake_preempts", ran ? 0 : "the woken higher-priority thread had not run", 0);
}
