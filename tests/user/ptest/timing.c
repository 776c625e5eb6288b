/*
 * ptest's fork benchmarks (make bench: pager.fork_exit, pager.fault.cow),
 * in a file of its own: its code after main.c's, so the path a ptest
 * child runs (pager.spawn_exit) keeps its pages. fork without the
 * runtime: the child starts at a function of ours, on a stack of two
 * pages map gives (the pager writes its struct mica_fork_info at their
 * bottom, in the child's copy only).
 */
#include "ptest.h"

static uint64_t fork_stack;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Fork a child starting at entry; its pid, or a negative error. */
static int64_t fork_to(void (*entry)(void), uint64_t *pid)
{
	int r = 0;

	if (!fork_stack)
		r = pager_map(pager, 0, 2, MICA_MAP_READ | MICA_MAP_WRITE, 0, &fork_stack);
	if (r == 0)
		r = pager_fork(pager, (uint64_t)(uintptr_t)entry, fork_stack + 2 * PAGE - 8,
		               fork_stack, pid);
	return r < 0 ? r : (int64_t)*pid;
}

/* A forked child that ends at once. */
static void fork_child_exit(void)
{
	mica_thread_exit(0);
}

/* A forked child that sleeps (its pages stay shared) until it is killed. */
static void fork_child_sleep(void)
{
	for (;;)
		mica_sleep(1000000000ULL);
}

int bench_fork(void)
{
	const uint64_t n = 512;
	uint64_t at, pid, t0, t1;

	/* fork: this process copied on write, a child that exits at once, wait. */
	t0 = rdtsc();
	for (int i = 0; i < 16; i++) {
		if (fork_to(fork_child_exit, &pid) < 0 || wait_for(pid) != 0)
			return -1;
	}
	t1 = rdtsc();
	report("pager.fork_exit", t1 - t0, 16);
	/* A write fault on a page shared with a (sleeping) child: unmap, copy, map. */
	if (pager_map(pager, 0, n, MICA_MAP_READ | MICA_MAP_WRITE, MICA_PAGER_MAP_FILL, &at) < 0 ||
	    fork_to(fork_child_sleep, &pid) < 0)
		return -2;
	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		*(volatile uint64_t *)(at + i * PAGE) = i;
	t1 = rdtsc();
	report("pager.fault.cow", t1 - t0, n);
	if (pager_kill(pager, pid, 0) < 0 || wait_for(pid) < 0)
		return -3;
	return pager_unmap(pager, at) < 0 ? -4 : 0;
}
