/*
 * Threads, and the pager without fixed limits (tests/system/test_threads.py
 * boots it as init): many threads each touching its own stack and the
 * heap under a mutex, a thread killed past its stack's guard, join errors,
 * the kill of a process with many threads and the end of one whose main
 * returns while its threads run, 1,000 processes at once, and one
 * process with 10,000 regions. Every case checks that every frame comes
 * back. Prints "TEST thread.<id> PASS|FAIL <why> <detail>".
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

#include <libipc/ipc.h>
#include <libipc/syscall.h>

static int failures;
static mica_handle_t pager;

#define CHECK(cond, why, detail)                                                                   \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("TEST thread.%s FAIL %s %ld\n", id, why, (long)(detail));           \
			failures++;                                                                \
			return;                                                                    \
		}                                                                                  \
	} while (0)
#define PASS() printf("TEST thread.%s PASS\n", id)

#define MARK  (MICA_PAGER_MAP_BASE + (MICA_UL(1) << 30)) /* a child maps here once ready */
#define RBASE (MICA_PAGER_MAP_BASE + (MICA_UL(4) << 30)) /* many regions from here */

/*
 * The pool's free frames, with those given to the kernel's reserve (thread
 * blocks come from it) and those backing this process (its own pages
 * touched for the first time while a case runs): what stays the same.
 */
static uint64_t pool_free(void)
{
	uint64_t f = 0, t, d = 0;
	int32_t l;
	struct pager_usage u;

	(void)pager_stats(pager, &f, &t, &l, &d, &u);
	return f + d + u.resident_pages;
}

static struct pager_usage usage(void)
{
	uint64_t f, t, d;
	int32_t l;
	struct pager_usage u = {0};

	(void)pager_stats(pager, &f, &t, &l, &d, &u);
	return u;
}

/* The pool's free count, once the heap gave its top back and ended processes are gone. */
static uint64_t settled_free(uint64_t want)
{
	uint64_t f = 0;

	malloc_trim();
	for (int i = 0; i < 100000 && (f = pool_free()) != want; i++)
		mica_yield();
	return f;
}

/* ---- many threads ---- */

#define WORKERS 16
#define ROUNDS  200

static struct mutex lock = MUTEX_INIT;
static volatile uint64_t counter;
static volatile int inside; /* threads in the critical section: never more than 1 */

/* Touch n bytes of stack below us (64 KiB: the stack grows past its first 16 KiB). */
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

static long worker(void *arg)
{
	uint64_t me = (uint64_t)(uintptr_t)arg;
	uint64_t want = 0;

	for (unsigned i = 0; i < sizeof(((uint8_t[64 << 10]){0})); i += 512)
		want += (uint8_t)(me + i);
	if (stack_touch(me) != want)
		return -1;
	for (int r = 0; r < ROUNDS; r++) {
		/* The heap, from every thread at once. */
		uint8_t *p = malloc(32 + (me * 37 + r * 101) % 3000);

		if (!p)
			return -2;
		memset(p, (int)me, 32);
		mutex_lock(&lock);
		if (inside++)
			counter += 1000000; /* two threads inside: the total shows it */
		counter++;
		inside--;
		mutex_unlock(&lock);
		if (r % 16 == 0)
			mica_yield();
		for (int i = 0; i < 32; i++)
			if (p[i] != (uint8_t)me)
				return -3;
		free(p);
	}
	return (long)me * 3;
}

static void t_many(void)
{
	const char *id = "many";
	long tids[WORKERS];
	uint64_t regions0, code;
	int r;

	/* The heap's first block and the pager's records settle before we count. */
	free(malloc(64));
	uint64_t free0 = settled_free(0);

	regions0 = usage().regions;
	for (int i = 0; i < WORKERS; i++)
		CHECK((tids[i] = thread_create(worker, (void *)(uintptr_t)(i + 1))) > 0, "create",
		      tids[i]);
	/* Each thread: its stack and its guard. */
	CHECK(usage().regions >= regions0 + 2, "regions while running", usage().regions);
	for (int i = 0; i < WORKERS; i++) {
		CHECK((r = thread_join(tids[i], &code)) == 0, "join", r);
		CHECK(code == (uint64_t)(i + 1) * 3, "code", (long)code);
	}
	CHECK(counter == WORKERS * ROUNDS, "counter", (long)counter);
	CHECK(heap_check() == NULL, "heap", 0);
	CHECK(usage().regions == regions0, "regions after", usage().regions);
	uint64_t f = settled_free(free0);

	CHECK(f == free0, "frames", (long)(free0 - f));
	PASS();
}

/* ---- a thread past its guard ---- */

static __attribute__((noinline)) long recurse(volatile uint64_t depth)
{
	volatile uint8_t pad[1024];

	pad[0] = (uint8_t)depth;
	if (depth == UINT64_MAX) /* never: the guard ends it first */
		return 0;
	return recurse(depth + 1) + pad[0];
}

static long overflow(void *arg)
{
	(void)arg;
	return recurse(0);
}

static long quick(void *arg)
{
	return (long)(uintptr_t)arg;
}

static void t_guard(void)
{
	const char *id = "guard";
	uint64_t free0 = settled_free(0), code = 0;
	long tid;
	int r;

	CHECK((tid = thread_create(overflow, 0)) > 0, "create", tid);
	CHECK((r = thread_join(tid, &code)) == MICA_EXIT_PAGER, "reason", r);
	CHECK(code == MICA_PAGER_KILL_STACK, "code", (long)code);
	/* The process goes on, and makes threads again. */
	CHECK((tid = thread_create(quick, (void *)5)) > 0, "create after", tid);
	CHECK((r = thread_join(tid, &code)) == 0 && code == 5, "join after", r);
	uint64_t f = settled_free(free0);

	CHECK(f == free0, "frames", (long)(free0 - f));
	PASS();
}

/* ---- join and create errors ---- */

static void t_errors(void)
{
	const char *id = "errors";
	uint64_t tid, code;
	uint32_t reason;
	long t;
	int r;

	CHECK((r = thread_join(999999, &code)) == MICA_ENOENT, "join unknown", r);
	CHECK((r = pager_thread_join(pager, 0, &reason, &code)) == MICA_ENOENT, "join 0", r);
	CHECK((t = thread_create(quick, (void *)1)) > 0, "create", t);
	CHECK((r = thread_join(t, &code)) == 0, "join", r);
	CHECK((r = thread_join(t, &code)) == MICA_ENOENT, "join twice", r);
	CHECK((r = pager_thread_create(pager, 0, 0, &tid)) == MICA_ERANGE, "entry 0", r);
	CHECK((r = pager_thread_create(pager, MICA_USER_TOP, 0, &tid)) == MICA_ERANGE, "entry top",
	      r);
	PASS();
}

/* ---- children with threads ---- */

static long spinner(void *arg)
{
	volatile uint64_t *slot = arg;

	for (;;) {
		(*slot)++;
		mica_yield();
	}
	return 0;
}

/* A child: mode "spin N" starts N spinning threads, maps MARK, and spins; "leave N" returns 7. */
static int child(int argc, char **argv)
{
	static volatile uint64_t slots[64];
	int n = 0;

	for (const char *p = argc > 2 ? argv[2] : "4"; *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (*p - '0');
	uint64_t at;

	int r;

	if (n > 64)
		n = 64;
	if (!strcmp(argv[1], "block")) {
		/* Wait for ever on a notification nobody signals: running, using no CPU. */
		int64_t nt = mica_notify_create();

		if (nt < 0)
			return 4;
		(void)mica_notify_wait((mica_handle_t)nt);
		return 5;
	}
	if (!strcmp(argv[1], "regions")) {
		/* Single-page regions (never touched) until the limit refuses one: their records
		 * count. */
		int made = 0;

		while ((r = pager_map(pager, RBASE + 2 * (uint64_t)made * MICA_PAGE_SIZE, 1,
		                      MICA_MAP_READ, MICA_PAGER_MAP_FIXED, &at)) == 0)
			made++;
		return r == MICA_ELIMIT && made > 64 && made < 64 + 36 * 64 ? 11 : 30 + (made > 64);
	}
	if (!strcmp(argv[1], "limited")) {
		/* Threads until the memory limit refuses one: it must, and not at once. */
		long t;
		int made = 0;

		while ((t = thread_create(spinner, (void *)&slots[made % 64])) > 0)
			made++;
		return t == MICA_ELIMIT && made >= 4 ? 10 : 20 + (int)-t;
	}
	for (int i = 0; i < n; i++)
		if (thread_create(spinner, (void *)&slots[i]) <= 0)
			return 1;
	if (!strcmp(argv[1], "leave"))
		return 7; /* main returns: the process ends, its threads with it */
	if (pager_map(pager, MARK, 1, MICA_MAP_READ, MICA_PAGER_MAP_FIXED, &at) < 0)
		return 2;
	for (;;)
		mica_yield();
}

static bool marked(uint64_t pid)
{
	static struct mica_pager_region list[MICA_PAGER_REGIONS_MAX];
	uint32_t total = 0, len = 0;

	if (pager_regions(pager, pid, 0, &total, (uint8_t *)list, &len) < 0)
		return false;
	for (uint32_t i = 0; i < len / sizeof(list[0]); i++)
		if (list[i].start == MARK)
			return true;
	return false;
}

static int64_t wait_for(uint64_t pid)
{
	uint32_t reason;
	uint64_t code;
	int r;

	while ((r = pager_wait(pager, pid, &reason, &code)) == MICA_EAGAIN)
		mica_yield();
	return r < 0 ? r : (int64_t)reason * 100 + (int64_t)code;
}

static void t_kill(void)
{
	const char *id = "kill";
	uint64_t free0 = settled_free(0), pid;
	int64_t w;
	int r, i;

	CHECK((r = pager_spawn(pager, "threadtest.elf", "spin 8", &pid)) == 0, "spawn", r);
	for (i = 0; i < 1000000 && !marked(pid); i++)
		mica_yield();
	CHECK(marked(pid), "child not ready", i);
	CHECK((r = pager_kill(pager, pid, 9)) == 0, "kill", r);
	CHECK((w = wait_for(pid)) == MICA_EXIT_KILLED * 100 + 9, "child", w);
	uint64_t f = settled_free(free0);

	CHECK(f == free0, "frames", (long)(free0 - f));
	PASS();
}

static void t_main_returns(void)
{
	const char *id = "main_returns";
	uint64_t free0 = settled_free(0), pid;
	int64_t w;
	int r;

	CHECK((r = pager_spawn(pager, "threadtest.elf", "leave 8", &pid)) == 0, "spawn", r);
	CHECK((w = wait_for(pid)) == 7, "child", w);
	uint64_t f = settled_free(free0);

	CHECK(f == free0, "frames", (long)(free0 - f));
	PASS();
}

/* ---- no fixed limits ---- */

/*
 * A child with a memory limit cannot make threads past it (each costs its
 * kernel block), nor regions without end (past 64, their records count).
 */
static void t_limit(void)
{
	const char *id = "limit";
	uint64_t free0 = settled_free(0), pid;
	struct pager_limits lim = {.mem_pages = 64, .procs = 0};
	int64_t w;
	int r;

	CHECK((r = pager_spawn_with(pager, "threadtest.elf", "limited", &lim, &pid)) == 0, "spawn",
	      r);
	CHECK((w = wait_for(pid)) == 10, "child", w);
	/* And regions past the first 64 cost their records, so a limited child cannot map without
	 * end. */
	CHECK((r = pager_spawn_with(pager, "threadtest.elf", "regions", &lim, &pid)) == 0,
	      "spawn 2", r);
	CHECK((w = wait_for(pid)) == 11, "child 2", w);
	uint64_t f = settled_free(free0);

	CHECK(f == free0, "frames", (long)(free0 - f));
	PASS();
}

/*
 * The kernel's reserve frames in use but for page tables, and its objects:
 * what the kernel holds for processes. (Page tables are left out: the
 * pager's donations split its physmap's large pages for good.)
 */
static void kernel_held(uint64_t *frames, uint64_t *objects)
{
	struct mica_mem_stats st = {0};

	(void)mica_mem_stats(&st);
	*frames = st.reserve_total - st.reserve_free - st.page_tables;
	*objects = st.objects;
}

/*
 * n processes running at once, each blocked until killed: all are listed as
 * running, then killed and waited for. Every pool frame comes back, and so
 * do the kernel's: its objects, and the reserve frames they and the pager's
 * handle table (one handle per live process, pages taken as it grows past
 * the address space's fixed slots) held.
 */
static void live(const char *id, uint64_t *pids, int n)
{
	uint64_t free0 = settled_free(0), k0, o0, k1, o1;
	uint32_t running = 0, total = 0, len = 0;
	static uint64_t list[PAGER_CHILDREN_PIDS_MAX / 8];
	int r;
	int64_t w;

	kernel_held(&k0, &o0);
	for (int i = 0; i < n; i++)
		CHECK((r = pager_spawn(pager, "threadtest.elf", "block", &pids[i])) == 0, "spawn",
		      (long)i * 100 - r);
	CHECK((r = pager_children(pager, 0, &total, (uint8_t *)list, &len)) == 0 &&
	          total == (uint32_t)n,
	      "children", total);
	for (int i = 0; i < n; i++) {
		CHECK((r = pager_running(pager, pids[i], &running)) == 0 && running == 1, "running",
		      i);
		CHECK((r = pager_kill(pager, pids[i], 4)) == 0, "kill", r);
	}
	for (int i = 0; i < n; i++)
		CHECK((w = wait_for(pids[i])) == MICA_EXIT_KILLED * 100 + 4, "child", w);
	uint64_t f = settled_free(free0);

	CHECK(f == free0, "frames", (long)(free0 - f));
	kernel_held(&k1, &o1);
	CHECK(o1 == o0, "kernel objects", (long)(o1 - o0));
	CHECK(k1 <= k0, "kernel frames", (long)(k1 - k0));
	PASS();
}

#define LIVE 120

/*
 * LIVE processes running at once, more than the pager's old table (32) and
 * more than it could run when it kept two kernel handles per process.
 */
static void t_live(void)
{
	static uint64_t pids[LIVE];

	live("live_120", pids, LIVE);
}

#define LIVE_MANY 1000

/*
 * 1,000 processes running at once: far past the 165 handles an address
 * space's own frame holds, so the pager's handle table (one handle per
 * live process) grows by pages from the kernel's reserve, and gives them
 * back as they end.
 */
static void t_live_many(void)
{
	static uint64_t pids[LIVE_MANY];

	live("live_1000", pids, LIVE_MANY);
}

#define PROCS 1000

/*
 * 1,000 processes at once in the pager's table: each child exits at once
 * and waits, ended, for our wait (an ended one holds no kernel handle).
 */
static void t_procs(void)
{
	const char *id = "procs_1000";
	static uint64_t pids[PROCS], list[PAGER_CHILDREN_PIDS_MAX / 8];
	uint64_t free0 = settled_free(0);
	uint32_t total = 0, len = 0;
	int r;
	int64_t w;

	for (int i = 0; i < PROCS; i++)
		CHECK((r = pager_spawn(pager, "threadtest.elf", "exit", &pids[i])) == 0, "spawn",
		      (long)i * 100 - r);
	CHECK((r = pager_children(pager, 0, &total, (uint8_t *)list, &len)) == 0, "children", r);
	CHECK(total == PROCS, "all at once", total);
	for (int i = 0; i < PROCS; i++)
		CHECK((w = wait_for(pids[i])) == 3, "child", w);
	uint64_t f = settled_free(free0);

	CHECK(f == free0, "frames", (long)(free0 - f));
	PASS();
}

#define NREGIONS 10000

/* 10,000 regions in this process: single pages with gaps, each touched, then all unmapped. */
static void t_regions(void)
{
	const char *id = "regions_10000";
	uint64_t free0 = settled_free(0), regions0 = usage().regions, at;
	int r;

	for (uint64_t i = 0; i < NREGIONS; i++) {
		uint64_t va = RBASE + 2 * i * MICA_PAGE_SIZE;

		CHECK((r = pager_map(pager, va, 1, MICA_MAP_READ | MICA_MAP_WRITE,
		                     MICA_PAGER_MAP_FIXED, &at)) == 0,
		      "map", (long)i * 100 - r);
		*(volatile uint64_t *)va = i;
	}
	CHECK(usage().regions == regions0 + NREGIONS, "regions", usage().regions);
	for (uint64_t i = 0; i < NREGIONS; i++)
		CHECK(*(volatile uint64_t *)(RBASE + 2 * i * MICA_PAGE_SIZE) == i, "value", i);
	for (uint64_t i = 0; i < NREGIONS; i++)
		CHECK((r = pager_unmap(pager, RBASE + 2 * i * MICA_PAGE_SIZE)) == 0, "unmap", r);
	CHECK(usage().regions == regions0, "regions after", usage().regions);
	uint64_t f = settled_free(free0);

	CHECK(f == free0, "frames", (long)(free0 - f));
	PASS();
}

/* ---- IPC buffers: each thread its own, a page of its own stack (docs/ABI.md) ---- */

#define IPCBUF_THREADS 4
static volatile uint64_t ipcbuf_of[IPCBUF_THREADS + 1];

/* This thread's buffer: found through FS, its `self`, in its own stack; a call through it. */
static long ipcbuf_check(uint64_t slot)
{
	struct mica_ipc_buffer *b = mica_ipc_buffer();
	uint64_t here = (uint64_t)(uintptr_t)&b;
	struct pager_usage u = usage(); /* a stub's call: through the buffer */

	ipcbuf_of[slot] = (uint64_t)(uintptr_t)b;
	if (!ipc_buffers_on() || (uint64_t)(uintptr_t)b % MICA_PAGE_SIZE ||
	    b->self != (uint64_t)(uintptr_t)b)
		return -1;
	if ((uint64_t)(uintptr_t)b < here || (uint64_t)(uintptr_t)b - here > (16 << 10))
		return -2; /* not a page of this thread's stack, just above us */
	if (u.resident_pages == 0)
		return -3;
	return 0;
}

static long ipcbuf_thread(void *arg)
{
	return ipcbuf_check((uint64_t)(uintptr_t)arg);
}

static void t_ipcbuf(void)
{
	const char *id = "ipcbuf";
	long tid[IPCBUF_THREADS];
	uint64_t code;

	CHECK(ipcbuf_check(IPCBUF_THREADS) == 0, "main's buffer", ipcbuf_check(IPCBUF_THREADS));
	for (int i = 0; i < IPCBUF_THREADS; i++)
		CHECK((tid[i] = thread_create(ipcbuf_thread, (void *)(uintptr_t)i)) > 0,
		      "thread_create", tid[i]);
	for (int i = 0; i < IPCBUF_THREADS; i++) {
		CHECK(thread_join(tid[i], &code) == 0, "join", i);
		CHECK(code == 0, "a thread's buffer, check", (long)code);
	}
	for (int i = 0; i <= IPCBUF_THREADS; i++)
		for (int k = 0; k < i; k++)
			CHECK(ipcbuf_of[i] != ipcbuf_of[k], "two threads share a buffer", i);
	PASS();
}

int main(int argc, char **argv)
{
	pager = rt_startup_info()->pager;
	if (argc > 1 && !strcmp(argv[1], "exit"))
		return 3;
	if (argc > 1)
		return child(argc, argv);
	t_many();
	t_ipcbuf();
	t_guard();
	t_errors();
	t_kill();
	t_main_returns();
	t_limit();
	t_regions();
	t_live();
	t_live_many();
	t_procs();
	printf("threadtest: done, %d failures\n", failures);
	return failures != 0;
}
