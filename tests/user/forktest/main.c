/*
 * fork and copy on write (tests/system/test_fork.py boots it as init):
 * fork's two returns and the child's own pid and handles; a child writing
 * every page while the parent's stay; the parent ending first (its child
 * passes to init, which reaps it) and the child first; both writing;
 * nested forks; fork in a process with threads and from a thread; fork
 * past a memory limit and with the pool empty; bad arguments. Every case
 * checks that every frame comes back. Prints "TEST fork.<id> PASS|FAIL
 * <why> <detail>".
 */
#include <idl/pager_client.h>
#include <malloc.h>
#include <mica/fault.h>
#include <startup.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <thread.h>
#include <unistd.h>

#include <libipc/ipc.h>
#include <libipc/syscall.h>

#define PAGE  MICA_PAGE_SIZE
#define PAGES 64 /* the region each case writes */

static int failures;

#define CHECK(cond, why, detail)                                                                   \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("TEST fork.%s FAIL %s %ld\n", id, why, (long)(detail));             \
			failures++;                                                                \
			return;                                                                    \
		}                                                                                  \
	} while (0)
#define PASS() printf("TEST fork.%s PASS\n", id)

/* The pager, as this process reaches it (a fork's child has a handle of its own). */
static mica_handle_t pager(void)
{
	return rt_startup_info()->pager;
}

static struct pager_usage usage(void)
{
	uint64_t f, t, d;
	int32_t l;
	struct pager_usage u = {0};

	(void)pager_stats(pager(), &f, &t, &l, &d, &u);
	return u;
}

/* Free frames, with those given to the kernel and those this process has mapped. */
static uint64_t pool_free(void)
{
	uint64_t f = 0, t, d = 0;
	int32_t l;
	struct pager_usage u;

	(void)pager_stats(pager(), &f, &t, &l, &d, &u);
	return f + d + u.resident_pages;
}

/* Only the pool's free frames. */
static uint64_t free_frames(void)
{
	uint64_t f = 0, t, d = 0;
	int32_t l;
	struct pager_usage u;

	(void)pager_stats(pager(), &f, &t, &l, &d, &u);
	return f;
}

/* The count once the heap gave its top back and ended processes are gone. */
static uint64_t settled_free(uint64_t want)
{
	uint64_t f = 0;

	malloc_trim();
	for (int i = 0; i < 100000 && (f = pool_free()) != want; i++)
		mica_yield();
	return f;
}

/* Wait for child pid: reason * 1000 + code, or a negative error. */
static long wait_for(uint64_t pid)
{
	uint32_t reason;
	uint64_t code;
	int e;

	while ((e = pager_wait(pager(), pid, &reason, &code)) == MICA_EAGAIN)
		mica_yield();
	return e < 0 ? e : (long)(reason * 1000 + code);
}

/* A region of PAGES pages, read-write, backed now; 0 if refused. */
static uint8_t *region(void)
{
	uint64_t at;

	if (pager_map(pager(), 0, PAGES, MICA_MAP_READ | MICA_MAP_WRITE, MICA_PAGER_MAP_FILL, &at) <
	    0)
		return 0;
	return (uint8_t *)(uintptr_t)at;
}

/* Write a pattern of seed into every page of p (a word at each end and in the middle). */
static void fill(uint8_t *p, uint64_t pages, uint64_t seed)
{
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t *w = (uint64_t *)(p + i * PAGE);

		w[0] = seed * 1000003 + i;
		w[256] = ~(seed + i);
		w[PAGE / 8 - 1] = seed ^ (i << 20);
	}
}

/* How many pages of p do not hold seed's pattern. */
static uint64_t wrong(const uint8_t *p, uint64_t pages, uint64_t seed)
{
	uint64_t bad = 0;

	for (uint64_t i = 0; i < pages; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * PAGE);

		bad += w[0] != seed * 1000003 + i || w[256] != ~(seed + i) ||
		       w[PAGE / 8 - 1] != (seed ^ (i << 20));
	}
	return bad;
}

static int global_value = 7; /* in the image's data: copy on write too */

/* ---- cases ---- */

/*
 * In a fork's child: its one thread has the IPC buffer at the forking
 * thread's address (its own copy of the page, registered: FS leads there).
 */
static bool child_buffer_ok(struct mica_ipc_buffer *forking)
{
	struct mica_ipc_buffer *b = mica_ipc_buffer();

	return ipc_buffers_on() && b == forking && b->self == (uint64_t)(uintptr_t)b;
}

/* fork returns twice: 0 in the child, the child's pid in the parent; the child is itself. */
static void t_basic(void)
{
	const char *id = "basic";
	uint64_t free0 = settled_free(0), me = rt_startup_info()->pid;
	mica_handle_t my_pager = pager();
	volatile uint64_t kept = 0x1234567890abcdefULL; /* on the stack across the call */
	char *heap = malloc(100);
	struct mica_ipc_buffer *buf = mica_ipc_buffer();

	CHECK(heap, "malloc", 0);
	strcpy(heap, "parent");
	long pid = fork();

	if (pid == 0) {
		/* The child: its own pid, its own pager handle that works, its copies of memory. */
		const struct mica_startup *st = rt_startup_info();
		uint64_t at;

		if (st->pid == me || kept != 0x1234567890abcdefULL || strcmp(heap, "parent") ||
		    global_value != 7)
			exit(1);
		if (!child_buffer_ok(buf))
			exit(3);
		if (pager_map(pager(), 0, 4, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at) < 0)
			exit(2);
		*(volatile uint64_t *)(uintptr_t)at = 5;
		strcpy(heap, "child");
		global_value = 8;
		kept = 1;
		free(malloc(5000)); /* the heap's lock is free in the child */
		printf("forktest: child pid %lu says hello\n", (unsigned long)st->pid);
		exit(42);
	}
	CHECK(pid > 0, "fork", pid);
	CHECK(pager() == my_pager && rt_startup_info()->pid == me, "parent changed", pid);
	long r = wait_for((uint64_t)pid);

	CHECK(r == MICA_EXIT_NORMAL * 1000 + 42, "child's end", r);
	CHECK(kept == 0x1234567890abcdefULL && !strcmp(heap, "parent") && global_value == 7,
	      "parent's memory changed", global_value);
	free(heap);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/* A child writes every page; the parent's pages keep their contents. */
static void t_child_writes(void)
{
	const char *id = "child_writes";
	uint64_t free0 = settled_free(0);
	uint8_t *p = region();

	CHECK(p, "map", 0);
	fill(p, PAGES, 1);
	uint64_t before = free_frames();
	long pid = fork();

	if (pid == 0) {
		if (wrong(p, PAGES, 1))
			exit(1);
		fill(p, PAGES, 2);
		exit(wrong(p, PAGES, 2) ? 2 : 0);
	}
	CHECK(pid > 0, "fork", pid);
	CHECK(wait_for((uint64_t)pid) == 0, "child", 0);
	/* Fork copied nothing: the region's frames stayed shared until the child wrote. */
	CHECK(before - free_frames() < PAGES, "fork copied pages", before - free_frames());
	CHECK(wrong(p, PAGES, 1) == 0, "parent's pages changed", wrong(p, PAGES, 1));
	/* The child is gone: the parent's writes copy nothing (its frames are its own again). */
	uint64_t f = free_frames();

	fill(p, PAGES, 3);
	CHECK(free_frames() == f, "copied after the sharer ended", f - free_frames());
	CHECK(wrong(p, PAGES, 3) == 0, "parent's writes", 0);
	CHECK(pager_unmap(pager(), (uint64_t)(uintptr_t)p) == 0, "unmap", 0);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/*
 * The parent writes every page and ends first: the child still reads the
 * pages as they were, passes to init (us), writes them too and ends.
 */
static void t_parent_first(void)
{
	const char *id = "parent_first";
	uint64_t free0 = settled_free(0);
	long mid = fork();

	if (mid == 0) {
		uint8_t *p = region();
		uint64_t me = rt_startup_info()->pid;

		if (!p)
			exit(1);
		fill(p, PAGES, 4);
		long pid = fork();

		if (pid == 0) {
			uint32_t live = 1;

			/* Until the parent has ended (it wrote every page first). */
			for (int i = 0; i < 100000 && live; i++) {
				(void)pager_running(pager(), me, &live);
				mica_yield();
			}
			if (live || wrong(p, PAGES, 4))
				exit(1);
			fill(p, PAGES, 5);
			exit(wrong(p, PAGES, 5) ? 2 : 0);
		}
		if (pid < 0)
			exit(2);
		fill(p, PAGES, 6);
		exit(wrong(p, PAGES, 6) ? 3 : 0);
	}
	CHECK(mid > 0, "fork", mid);
	long r = wait_for((uint64_t)mid);

	CHECK(r == 0, "parent", r);
	/* Its child is ours now. */
	uint8_t list[4000];
	uint32_t total = 0, len = sizeof(list);

	for (int i = 0; i < 1000 && !total; i++) {
		(void)pager_children(pager(), 0, &total, list, &len);
		mica_yield();
	}
	CHECK(total == 1, "adopted children", total);
	uint64_t orphan;

	memcpy(&orphan, list, sizeof(orphan));
	CHECK(orphan > (uint64_t)mid, "adopted pid", orphan);
	r = wait_for(orphan);
	CHECK(r == 0, "orphan", r);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/* Both write every page at once; each sees its own. */
static void t_both_write(void)
{
	const char *id = "both_write";
	uint64_t free0 = settled_free(0);
	uint8_t *p = region();

	CHECK(p, "map", 0);
	fill(p, PAGES, 7);
	long pid = fork();
	uint64_t seed = pid == 0 ? 8 : 9;

	fill(p, PAGES / 2, seed);
	mica_yield();
	fill(p, PAGES, seed);
	mica_yield();
	if (pid == 0)
		exit(wrong(p, PAGES, 8) ? 1 : 0);
	CHECK(pid > 0, "fork", pid);
	CHECK(wrong(p, PAGES, 9) == 0, "parent's pages", wrong(p, PAGES, 9));
	CHECK(wait_for((uint64_t)pid) == 0, "child", 0);
	CHECK(wrong(p, PAGES, 9) == 0, "parent's pages after", 0);
	CHECK(pager_unmap(pager(), (uint64_t)(uintptr_t)p) == 0, "unmap", 0);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/*
 * Forks four deep: each level checks what its parent wrote, writes its own
 * quarter, forks, waits for its child, checks again.
 */
static int nest(uint8_t *p, int depth)
{
	for (int d = 0; d < depth; d++)
		if (wrong(p + (uint64_t)d * (PAGES / 4) * PAGE, PAGES / 4, 100 + (uint64_t)d))
			return 1;
	if (depth == 4)
		return 0;
	uint8_t *mine = p + (uint64_t)depth * (PAGES / 4) * PAGE;

	fill(mine, PAGES / 4, 100 + (uint64_t)depth);
	long pid = fork();

	if (pid == 0)
		exit(nest(p, depth + 1));
	if (pid < 0)
		return 2;
	if (wait_for((uint64_t)pid) != 0)
		return 3;
	/* The child wrote the next quarter in its copy: ours still has the old bytes. */
	if (depth < 3 && !wrong(p + (uint64_t)(depth + 1) * (PAGES / 4) * PAGE, PAGES / 4,
	                        100 + (uint64_t)depth + 1))
		return 4;
	for (int d = 0; d <= depth; d++)
		if (wrong(p + (uint64_t)d * (PAGES / 4) * PAGE, PAGES / 4, 100 + (uint64_t)d))
			return 5;
	return 0;
}

static void t_nested(void)
{
	const char *id = "nested";
	uint64_t free0 = settled_free(0);
	uint8_t *p = region();

	CHECK(p, "map", 0);
	int r = nest(p, 0);

	CHECK(r == 0, "nest", r);
	CHECK(pager_unmap(pager(), (uint64_t)(uintptr_t)p) == 0, "unmap", 0);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/* ---- fork with share and give ---- */

/* The start of this process's first region of kind MICA_PAGER_KIND_SHARED, or 0. */
static uint64_t shared_region(void)
{
	static struct mica_pager_region list[MICA_PAGER_REGIONS_MAX];
	uint32_t total = 0, len = sizeof(list);

	if (pager_regions(pager(), 0, 0, &total, (uint8_t *)list, &len) < 0)
		return 0;
	for (uint32_t i = 0; i < len / sizeof(list[0]); i++)
		if (list[i].kind == MICA_PAGER_KIND_SHARED)
			return list[i].start;
	return 0;
}

/*
 * Copy on write meets share and give, in every order: a region forked
 * (copy on write), then shared with that child (the parent's pages become
 * its own first, the child keeps its copy and sees the shared one too); a
 * shared region forked (it stays shared: the child's writes reach the
 * parent); a region forked, then given to the child (which holds two
 * mappings of each frame and copies at its first write to either).
 */
static void t_share_give(void)
{
	const char *id = "share_give";
	uint64_t free0 = settled_free(0), at;
	uint8_t *s = region(), *g = region();

	CHECK(s && g, "map", 0);
	fill(s, PAGES, 20);
	fill(g, PAGES, 30);
	long pid = fork();

	if (pid == 0) {
		uint64_t sh = 0;

		for (int i = 0; i < 100000 && !(sh = shared_region()); i++)
			mica_yield();
		/* Its copy holds what the parent had at the fork; the shared one what it wrote. */
		if (!sh || wrong(s, PAGES, 20) || wrong((uint8_t *)(uintptr_t)sh, PAGES, 21))
			exit(1);
		fill((uint8_t *)(uintptr_t)sh, PAGES, 22);
		fill(s, PAGES, 23);
		exit(wrong((uint8_t *)(uintptr_t)sh, PAGES, 22) || wrong(s, PAGES, 23) ? 2 : 0);
	}
	CHECK(pid > 0, "fork", pid);
	fill(s, PAGES, 21);
	CHECK(pager_share(pager(), (uint64_t)(uintptr_t)s, (uint64_t)pid,
	                  MICA_MAP_READ | MICA_MAP_WRITE, &at) == 0,
	      "share", 0);
	long r = wait_for((uint64_t)pid);

	CHECK(r == 0, "child sharing", r);
	CHECK(wrong(s, PAGES, 22) == 0, "the child's writes to the shared region", 0);
	/* The region is shared now: a fork keeps it shared. */
	pid = fork();
	if (pid == 0) {
		if (wrong(s, PAGES, 22))
			exit(1);
		fill(s, PAGES, 24);
		exit(0);
	}
	CHECK(pid > 0, "fork 2", pid);
	CHECK((r = wait_for((uint64_t)pid)) == 0, "child of the shared region", r);
	CHECK(wrong(s, PAGES, 24) == 0, "shared region after the fork", wrong(s, PAGES, 24));
	/* Forked, then given to the child. */
	pid = fork();
	if (pid == 0) {
		uint64_t gv = 0;

		for (int i = 0; i < 100000; i++) {
			/* The given region: an anonymous one we did not have at the fork. */
			static struct mica_pager_region list[MICA_PAGER_REGIONS_MAX];
			uint32_t total = 0, len = sizeof(list);

			if (pager_regions(pager(), 0, 0, &total, (uint8_t *)list, &len) < 0)
				exit(1);
			for (uint32_t k = 0; k < len / sizeof(list[0]); k++)
				if (list[k].kind == MICA_PAGER_KIND_ANON &&
				    list[k].start != (uint64_t)(uintptr_t)g &&
				    list[k].end - list[k].start == PAGES * PAGE)
					gv = list[k].start;
			if (gv)
				break;
			mica_yield();
		}
		uint8_t *given = (uint8_t *)(uintptr_t)gv;

		if (!gv || wrong(given, PAGES, 31) || wrong(g, PAGES, 30))
			exit(2);
		fill(given, PAGES, 32);
		if (wrong(g, PAGES, 30) || wrong(given, PAGES, 32))
			exit(3);
		fill(g, PAGES, 33);
		exit(wrong(g, PAGES, 33) || wrong(given, PAGES, 32) ? 4 : 0);
	}
	CHECK(pid > 0, "fork 3", pid);
	fill(g, PAGES, 31);
	CHECK(pager_give(pager(), (uint64_t)(uintptr_t)g, (uint64_t)pid, &at) == 0, "give", 0);
	CHECK((r = wait_for((uint64_t)pid)) == 0, "child given", r);
	CHECK(pager_unmap(pager(), (uint64_t)(uintptr_t)s) == 0, "unmap", 0);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/* ---- threads ---- */

static volatile int stop;
static volatile uint64_t spins[4];

static long spinner(void *arg)
{
	uint64_t me = (uint64_t)(uintptr_t)arg;

	while (!stop) {
		spins[me]++;
		free(malloc(64 + me * 100)); /* the heap's lock, taken and let go */
		mica_yield();
	}
	return (long)me;
}

/* The threads of process pid as pager.procs lists them, or -1. */
static long threads_of(uint64_t pid)
{
	uint8_t list[3968];
	uint32_t total = 0, len = sizeof(list);

	for (uint32_t first = 0;; first += MICA_PAGER_PROCS_MAX) {
		if (pager_procs(pager(), first, &total, list, &len) < 0 || !len)
			return -1;
		for (uint32_t i = 0; i < len / sizeof(struct mica_pager_proc); i++) {
			struct mica_pager_proc pr;

			memcpy(&pr, list + i * sizeof(pr), sizeof(pr));
			if (pr.pid == pid)
				return pr.threads;
		}
	}
}

/* Use 64 KiB of stack below us (past a thread stack's first 16 KiB); a checksum. */
static __attribute__((noinline)) uint64_t stack_touch(uint64_t seed)
{
	volatile uint8_t buf[64 << 10];

	for (unsigned i = 0; i < sizeof(buf); i += 512)
		buf[i] = (uint8_t)(seed + i);
	uint64_t sum = 0;

	for (unsigned i = 0; i < sizeof(buf); i += 512)
		sum += buf[i];
	return sum;
}

static uint64_t stack_sum(uint64_t seed)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < (64 << 10); i += 512)
		sum += (uint8_t)(seed + i);
	return sum;
}

static long little(void *arg)
{
	return (long)(uintptr_t)arg + 1;
}

/* What a thread that forks gives back: the child's end, or an error. */
static long forker(void *arg)
{
	uint8_t *p = arg;
	struct mica_ipc_buffer *buf = mica_ipc_buffer();
	long pid = fork();

	if (pid == 0) {
		/* The child runs this thread's copy alone, on the copy of its stack. */
		if (wrong(p, PAGES, 10) || threads_of(rt_startup_info()->pid) != 1)
			exit(1);
		if (!child_buffer_ok(buf))
			exit(6);
		fill(p, PAGES, 11);
		/* Its stack (a thread's area in the parent) grows, and it can start threads. */
		if (stack_touch(3) != stack_sum(3))
			exit(4);
		long t = thread_create(little, (void *)5);
		uint64_t c = 0;

		if (t <= 0 || thread_join(t, &c) != 0 || c != 6)
			exit(5);
		char *m = malloc(10000);

		if (!m)
			exit(2);
		free(m);
		exit(wrong(p, PAGES, 11) ? 3 : 0);
	}
	if (pid < 0)
		return pid;
	return wait_for((uint64_t)pid);
}

/*
 * A process with four threads busy on the heap forks: the child has one
 * thread and a heap it can use. Then one of the threads forks.
 */
static void t_threads(void)
{
	const char *id = "threads";
	uint64_t free0 = settled_free(0);
	uint8_t *p = region();
	long tids[4], ftid;
	uint64_t code;

	CHECK(p, "map", 0);
	fill(p, PAGES, 10);
	stop = 0;
	for (int i = 0; i < 4; i++)
		CHECK((tids[i] = thread_create(spinner, (void *)(uintptr_t)i)) > 0, "thread", i);
	mica_yield();
	long pid = fork();

	if (pid == 0) {
		uint64_t seen = spins[0];

		for (int i = 0; i < 50; i++)
			mica_yield();
		/* Nothing else runs here: the threads' counters stay still. */
		if (spins[0] != seen || threads_of(rt_startup_info()->pid) != 1)
			exit(1);
		free(malloc(3000));
		exit(wrong(p, PAGES, 10) ? 2 : 0);
	}
	CHECK(pid > 0, "fork", pid);
	CHECK(threads_of(rt_startup_info()->pid) == 5, "parent's threads",
	      threads_of(rt_startup_info()->pid));
	CHECK(wait_for((uint64_t)pid) == 0, "child", wait_for((uint64_t)pid));
	CHECK((ftid = thread_create(forker, p)) > 0, "forker", ftid);
	CHECK(thread_join(ftid, &code) == 0 && code == 0, "fork from a thread", (long)code);
	stop = 1;
	for (int i = 0; i < 4; i++)
		CHECK(thread_join(tids[i], &code) == 0 && code == (uint64_t)i, "join", i);
	CHECK(wrong(p, PAGES, 10) == 0, "parent's pages", 0);
	CHECK(pager_unmap(pager(), (uint64_t)(uintptr_t)p) == 0, "unmap", 0);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/* Processes whose parent is pid, as pager.procs lists them. */
static long children_of(uint64_t pid)
{
	uint8_t list[3968];
	uint32_t total = 0, len = sizeof(list);
	long n = 0;

	for (uint32_t first = 0; first < total || first == 0; first += MICA_PAGER_PROCS_MAX) {
		if (pager_procs(pager(), first, &total, list, &len) < 0 || !len)
			break;
		for (uint32_t i = 0; i < len / sizeof(struct mica_pager_proc); i++) {
			struct mica_pager_proc pr;

			memcpy(&pr, list + i * sizeof(pr), sizeof(pr));
			n += pr.parent == pid && pr.state == MICA_PAGER_PROC_LIVE;
		}
	}
	return n;
}

/* A forked child that forks two of its own, all sleeping: kill_tree ends the three. */
static void t_kill_tree(void)
{
	const char *id = "kill_tree";
	uint64_t free0 = settled_free(0);
	uint8_t *p = region();

	CHECK(p, "map", 0);
	fill(p, PAGES, 40);
	long pid = fork();

	if (pid == 0) {
		for (int i = 0; i < 2; i++) {
			long g = fork();

			if (g == 0) {
				fill(p, PAGES / 2, 41); /* copies of their own, then sleep */
				for (;;)
					mica_sleep(1000000000ULL);
			}
			if (g < 0)
				exit(1);
		}
		fill(p, PAGES, 42);
		for (;;)
			mica_sleep(1000000000ULL);
	}
	CHECK(pid > 0, "fork", pid);
	for (int i = 0; i < 100000 && children_of((uint64_t)pid) < 2; i++)
		mica_yield();
	CHECK(children_of((uint64_t)pid) == 2, "grandchildren", children_of((uint64_t)pid));
	CHECK(pager_kill_tree(pager(), (uint64_t)pid, 9) == 0, "kill_tree", 0);
	long r = wait_for((uint64_t)pid);

	CHECK(r == MICA_EXIT_KILLED * 1000 + 9, "child's end", r);
	CHECK(wrong(p, PAGES, 40) == 0, "parent's pages", 0);
	CHECK(pager_unmap(pager(), (uint64_t)(uintptr_t)p) == 0, "unmap", 0);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/* ---- memory ---- */

/*
 * A child under a memory limit of 400 pages backs 300, then forks: the
 * copy would take its subtree past the limit (MICA_ELIMIT), and nothing
 * is left of it. Run in a spawned child ("limit").
 */
static int limit_child(void)
{
	uint64_t at, free0 = pool_free();

	if (pager_map(pager(), 0, 300, MICA_MAP_READ | MICA_MAP_WRITE, MICA_PAGER_MAP_FILL, &at) <
	    0)
		return 1;
	uint64_t regions = usage().regions;
	long pid = fork();

	if (pid == 0)
		exit(0);
	if (pid != MICA_ELIMIT)
		return 2;
	if (usage().regions != regions || pool_free() != free0)
		return 3;
	uint32_t total = 1, len = 8;
	uint8_t list[8];

	if (pager_children(pager(), 0, &total, list, &len) < 0 || total != 0)
		return 4;
	return pager_unmap(pager(), at) == 0 ? 0 : 5;
}

static void t_limit(void)
{
	const char *id = "limit";
	uint64_t free0 = settled_free(0), pid;
	struct pager_limits lim = {.mem_pages = 400, .procs = 4};

	CHECK(pager_spawn_with(pager(), "forktest.elf", "limit", &lim, &pid) == 0, "spawn", 0);
	long r = wait_for(pid);

	CHECK(r == 0, "child", r);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/*
 * The pool emptied ("oom", a spawned child): it forks a child that
 * touches fresh pages until no frame is free. A fork then fails cleanly
 * (MICA_ENOMEM: every fork needs a frame for the child's own copy of the
 * page its struct mica_fork_info lies in), and a write to a page it still
 * shares with its parent finds no frame for the copy, so the pager kills
 * it alone; the parent's write to the same page then copies nothing (no
 * sharer is left). Every frame comes back.
 */
static int oom_child(void)
{
	uint8_t *p = region();

	if (!p)
		return 1;
	fill(p, PAGES, 12);
	long pid = fork();

	if (pid == 0) {
		uint64_t n = free_frames(), at, f;

		if (pager_map(pager(), 0, n, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at) < 0)
			exit(1);
		/* Touch pages until no frame is free (counting often only near the end). */
		for (uint64_t i = 0; i < n && (f = free_frames()) > 0;) {
			for (uint64_t k = f > 64 ? f - 32 : 1; k-- && i < n; i++)
				((volatile uint8_t *)(uintptr_t)at)[i * PAGE] = 1;
		}
		if (free_frames() != 0)
			exit(2);
		long r = fork();

		if (r != MICA_ENOMEM)
			exit(3);
		p[0] = 1; /* shared with the parent: no frame for the copy */
		exit(4);
	}
	if (pid < 0)
		return 2;
	long r = wait_for((uint64_t)pid);

	if (r != MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_NOMEM)
		return 100 + (int)(r % 100);
	uint64_t f = free_frames();

	fill(p, PAGES, 13); /* no sharer left: no frame needed */
	if (wrong(p, PAGES, 13) || free_frames() != f)
		return 4;
	return pager_unmap(pager(), (uint64_t)(uintptr_t)p) == 0 ? 0 : 5;
}

static void t_oom(void)
{
	const char *id = "oom";
	uint64_t free0 = settled_free(0), pid;

	CHECK(pager_spawn(pager(), "forktest.elf", "oom", &pid) == 0, "spawn", 0);
	long r = wait_for(pid);

	CHECK(r == 0, "child", r);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

/* pager.fork's argument checks: each refused, nothing started. */
static void t_errors(void)
{
	const char *id = "errors";
	uint64_t free0 = settled_free(0), pid = 0, entry = (uint64_t)(uintptr_t)t_errors;
	uint8_t *p = region();
	struct mica_fork_info *ok = (struct mica_fork_info *)(uintptr_t)(p + 64);
	uint64_t sp = (uint64_t)(uintptr_t)(p + PAGE);
	mica_handle_t h = pager();

	CHECK(p, "map", 0);
	CHECK(pager_fork(h, 0, sp, (uint64_t)(uintptr_t)ok, &pid) == MICA_ERANGE, "entry 0", 0);
	CHECK(pager_fork(h, MICA_USER_TOP, sp, (uint64_t)(uintptr_t)ok, &pid) == MICA_ERANGE,
	      "entry top", 0);
	CHECK(pager_fork(h, entry, 0, (uint64_t)(uintptr_t)ok, &pid) == MICA_ERANGE, "stack 0", 0);
	CHECK(pager_fork(h, entry, sp, 0x1000, &pid) == MICA_ERANGE, "info low", 0);
	CHECK(pager_fork(h, entry, sp, ~0ULL, &pid) == MICA_ERANGE, "info high", 0);
	CHECK(pager_fork(h, entry, sp, (uint64_t)(uintptr_t)ok + 4, &pid) == MICA_EINVAL,
	      "info misaligned", 0);
	CHECK(pager_fork(h, entry, sp, (uint64_t)(uintptr_t)(p + PAGE - 8), &pid) == MICA_EINVAL,
	      "info across a page", 0);
	CHECK(pager_fork(h, entry, sp, (uint64_t)(uintptr_t)&usage, &pid) == MICA_EINVAL,
	      "info in text", 0);
	CHECK(pager_fork(h, entry, sp, MICA_PAGER_MAP_BASE + (MICA_UL(64) << 30), &pid) ==
	          MICA_EINVAL,
	      "info in no region", 0);
	uint32_t total = 1, len = 8;
	uint8_t list[8];

	CHECK(pager_children(h, 0, &total, list, &len) == 0 && total == 0, "a child started",
	      total);
	CHECK(pager_unmap(h, (uint64_t)(uintptr_t)p) == 0, "unmap", 0);
	CHECK(settled_free(free0) == free0, "frames", (long)pool_free() - (long)free0);
	PASS();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "limit"))
		return limit_child();
	if (argc > 1 && !strcmp(argv[1], "oom"))
		return oom_child();
	t_basic();
	t_child_writes();
	t_parent_first();
	t_both_write();
	t_nested();
	t_share_give();
	t_threads();
	t_kill_tree();
	t_limit();
	t_oom();
	t_errors();
	printf("forktest: done, %d failures\n", failures);
	return failures != 0;
}
