/*
 * memtest: memory objects served by a memory server (docs/MEMORY_SERVERS.md),
 * started by the pager as init (tests/system/test_memobj.py). The first
 * process is a memory server itself (a thread serving idl/memobj.idl from
 * a backing store in its own memory) and runs the cases; its children map
 * its objects (argv "client ..."), or are memory servers that die or hang
 * on their first request (argv "srv die|hang <pid>"). Each case prints
 * "TEST memobj.<id> PASS|FAIL", and the pool's free frames are the same
 * after every case as before it.
 */
#include <idl/memobj_server.h>
#include <idl/pager_client.h>
#include <libipc/server.h>
#include <libipc/syscall.h>
#include <mica/fault.h>
#include <mica/pager.h>
#include <mica/thread.h>

#include "out.h"

#define PAGE   MICA_PAGE_SIZE
#define PAGES  4 /* each object's size, in pages */
#define RW     (MICA_MAP_READ | MICA_MAP_WRITE)
#define SHARED MICA_MEMOBJ_SHARED

static const struct mica_startup *st;
static mica_handle_t pager;

/* ---- helpers ---- */

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static uint64_t parse_num(const char *s)
{
	uint64_t v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

/* "<a> <b>" into buf (decimal). */
static void fmt_args(char *buf, const char *a, uint64_t n1, uint64_t n2)
{
	uint32_t k = 0;
	uint64_t vals[2] = {n1, n2};

	while (*a)
		buf[k++] = *a++;
	for (int i = 0; i < 2; i++) {
		char d[24];
		int m = 0;
		uint64_t v = vals[i];

		buf[k++] = ' ';
		do
			d[m++] = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		while (m)
			buf[k++] = d[--m];
	}
	buf[k] = 0;
}

static uint64_t pool_free(void)
{
	uint64_t f = 0, t, d = 0;
	int32_t l;
	struct pager_usage u;

	pager_stats(pager, &f, &t, &l, &d, &u);
	return f + d;
}

static uint64_t spawn(const char *args)
{
	uint64_t pid = 0;

	return pager_spawn(pager, "memtest.elf", args, &pid) < 0 ? 0 : pid;
}

/* Wait for child pid: reason * 1000 + code, or a negative error. */
static int64_t wait_for(uint64_t pid)
{
	uint32_t reason;
	uint64_t code;
	int r;

	while ((r = pager_wait(pager, pid, &reason, &code)) == MICA_EAGAIN)
		mica_sleep(10000000);
	return r < 0 ? r : (int64_t)reason * 1000 + (int64_t)code;
}

/* ---- the backing store this process serves its objects from ---- */

#define OBJS 4
static uint64_t obj_ids[OBJS];
static uint8_t store[OBJS][PAGES][PAGE];
static volatile uint64_t page_ins, page_outs;

/* What store holds at first: word i of page p of slot o. */
static uint64_t pattern(unsigned o, unsigned p, unsigned i)
{
	return 0xAB00000000000000ULL | (uint64_t)o << 40 | (uint64_t)p << 20 | i;
}

static int slot_of(uint64_t object)
{
	for (int i = 0; i < OBJS; i++)
		if (obj_ids[i] == object)
			return i;
	return -1;
}

static int page_in(void *ctx, uint64_t badge, uint64_t object, uint64_t offset, uint64_t npages,
                   uint64_t window)
{
	int o = slot_of(object);

	(void)ctx, (void)badge;
	if (o < 0 || npages != 1 || offset % PAGE || offset / PAGE >= PAGES)
		return MICA_EINVAL;
	page_ins++;
	uint64_t *d = (uint64_t *)window, *s = (uint64_t *)store[o][offset / PAGE];

	for (unsigned i = 0; i < PAGE / 8; i++)
		d[i] = s[i];
	return 0;
}

static int page_out(void *ctx, uint64_t badge, uint64_t object, uint64_t offset, uint64_t npages,
                    uint64_t window)
{
	int o = slot_of(object);

	(void)ctx, (void)badge;
	if (o < 0 || npages != 1 || offset % PAGE || offset / PAGE >= PAGES)
		return MICA_EINVAL;
	page_outs++;
	const uint64_t *s = (const uint64_t *)window;
	uint64_t *d = (uint64_t *)store[o][offset / PAGE];

	for (unsigned i = 0; i < PAGE / 8; i++)
		d[i] = s[i];
	return 0;
}

static const struct memobj_ops store_ops = {.page_in = page_in, .page_out = page_out};
static struct ipc_server srv;
static mica_handle_t serve_ep;

/* Back srv's buffers now: the kernel copies a message only into pages already mapped. */
static void srv_touch(void)
{
	volatile uint8_t *p = (volatile uint8_t *)&srv;

	for (uint64_t i = 0; i < sizeof(srv); i += 512)
		p[i] = 0;
}

/* The serving thread (pager.thread_create): serves the store until the end. */
static void serve_thread(uint64_t arg)
{
	(void)arg;
	srv_touch();
	memobj_server_init(&srv, &store_ops, 0);
	(void)ipc_serve(&srv, serve_ep);
	mica_thread_exit(1);
}

/* Become a memory server: an endpoint, the pager told, a thread serving it. 0 or an error. */
static int serve_start(void (*entry)(uint64_t))
{
	int64_t r = mica_endpoint_create();
	uint64_t tid;

	if (r < 0)
		return (int)r;
	serve_ep = (mica_handle_t)r;
	if ((r = pager_memobj_serve(pager, serve_ep)) < 0)
		return (int)r;
	return pager_thread_create(pager, (uint64_t)(uintptr_t)entry, 0, &tid);
}

/* A new object of PAGES pages in slot o, its store filled with the pattern. 0 or an error. */
static int object_new(unsigned o)
{
	for (unsigned p = 0; p < PAGES; p++)
		for (unsigned i = 0; i < PAGE / 8; i++)
			((uint64_t *)store[o][p])[i] = pattern(o, p, i);
	return pager_memobj_ctl(pager, MICA_MEMOBJ_CREATE, PAGES * PAGE, RW, 0, &obj_ids[o]);
}

static int object_destroy(unsigned o)
{
	uint64_t out;
	int r = pager_memobj_ctl(pager, MICA_MEMOBJ_DESTROY, obj_ids[o], 0, 0, &out);

	obj_ids[o] = 0;
	return r;
}

/* ---- a thread that touches one address (to be killed for it, alone) ---- */

static void toucher(uint64_t addr)
{
	(void)*(volatile uint64_t *)addr;
	mica_thread_exit(0);
}

/* Start a thread touching addr and join it: reason * 1000 + code, or a negative error. */
static uint64_t slow_calls; /* pager calls during a wait that took 50 ms or more */

static int64_t touch_in_thread(uint64_t addr)
{
	uint64_t tid, code;
	uint32_t reason;
	int r = pager_thread_create(pager, (uint64_t)(uintptr_t)toucher, addr, &tid);

	if (r < 0)
		return r;
	for (;;) {
		/* The pager answers at once while the toucher's fault waits on a server. */
		int64_t t0 = mica_clock();

		r = pager_thread_join(pager, tid, &reason, &code);
		slow_calls += mica_clock() - t0 >= 50000000;
		if (r != MICA_EAGAIN)
			break;
		mica_sleep(10000000);
	}
	return r < 0 ? r : (int64_t)reason * 1000 + (int64_t)code;
}

/* ---- child modes ---- */

/*
 * "client <object> <how>": map the object and check what a mapping of it
 * sees. Exit code 0 if all was as expected, else the number of the check.
 */
static int client(uint64_t object, uint64_t how)
{
	uint64_t at, out;
	bool shared = how == 0;
	int r = pager_memobj_map(pager, object, 0, PAGES * PAGE, RW, shared ? SHARED : 0, 0, &at);

	if (r < 0)
		return 10;
	volatile uint64_t *w = (volatile uint64_t *)at;

	/* Page 2: the parent wrote its word 0 (shared, before spawning us). */
	if (w[2 * PAGE / 8] != 0x5151)
		return 11;
	/* Page 1: the pattern, then our write. */
	if (w[PAGE / 8 + 1] != pattern(0, 1, 1))
		return 12;
	w[PAGE / 8] = shared ? 0xC1C1 : 0xD2D2;
	if (w[PAGE / 8] != (shared ? 0xC1C1ULL : 0xD2D2ULL) || w[PAGE / 8 + 1] != pattern(0, 1, 1))
		return 13;
	/* A private write to page 2 is ours alone; the parent's value was there before it. */
	if (!shared) {
		w[2 * PAGE / 8 + 5] = 0xEEEE;
		if (w[2 * PAGE / 8] != 0x5151)
			return 14;
	}
	/* A creator-only call is refused to us; a sync of our mapping is not. */
	if (pager_memobj_ctl(pager, MICA_MEMOBJ_RESIZE, object, 0, 0, &out) != MICA_EPERM)
		return 15;
	if (pager_memobj_ctl(pager, MICA_MEMOBJ_CREATE, PAGE, RW, 0, &out) != MICA_EPERM)
		return 16;
	return 0;
}

/* "srv die|hang <pid>": serve one object granted to pid, and fail its first request. */
#define BAD_PAGES 8 /* its size: more pages than the pager has workers to wait on them */
static bool srv_hang;

static int bad_page_in(void *ctx, uint64_t badge, uint64_t object, uint64_t offset, uint64_t npages,
                       uint64_t window)
{
	(void)ctx, (void)badge, (void)object, (void)offset, (void)npages, (void)window;
	if (srv_hang)
		for (;;)
			mica_sleep(1000000000ULL); /* never answers */
	mica_thread_exit(3);                       /* the server's first thread: the process ends */
}

static const struct memobj_ops bad_ops = {.page_in = bad_page_in, .page_out = page_out};

static int bad_server(bool hang, uint64_t grantee)
{
	uint64_t id, out;
	int64_t r = mica_endpoint_create();

	srv_hang = hang;
	if (r < 0)
		return 20;
	serve_ep = (mica_handle_t)r;
	if (pager_memobj_serve(pager, serve_ep) < 0)
		return 21;
	if (pager_memobj_ctl(pager, MICA_MEMOBJ_CREATE, BAD_PAGES * PAGE, RW, 0, &id) < 0 ||
	    pager_memobj_ctl(pager, MICA_MEMOBJ_GRANT, id, grantee, RW, &out) < 0)
		return 22;
	srv_touch();
	memobj_server_init(&srv, &bad_ops, 0);
	(void)ipc_serve(&srv, serve_ep);
	return 23;
}

/* ---- the cases ---- */

static uint64_t base;
static int failed;
static bool warming; /* the warm-up pass: results are not reported */

/*
 * A case's result (fail NULL: a pass, if the pool's free frames are what
 * they were before the first case: exactly, every frame a case used is
 * back).
 */
static void done(const char *id, const char *fail, long detail)
{
	uint64_t now = pool_free();

	if (warming) {
		/* A failure here would leave things behind: report it (an id pytest does not know).
		 */
		if (fail)
			result_in("memobj.warmup", id, fail, detail), failed++;
		return;
	}
	if (!fail && now != base) {
		fail = "frames";
		detail = (long)now - (long)base;
	}
	failed += fail != 0;
	result_in("memobj", id, fail, detail);
}

#define CHECK(cond, why, detail)                                                                   \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return done(id, why, (long)(detail));                                      \
	} while (0)

/* Two processes share an object: each sees the other's writes, and they reach the store. */
static void t_shared(void)
{
	const char *id = "shared";
	uint64_t at, out, size, owner, cached, maps;
	uint32_t rights;
	char args[64];
	int64_t r;

	CHECK(object_new(0) == 0, "create", 0);
	CHECK(pager_memobj_map(pager, obj_ids[0], 0, PAGES * PAGE, RW, SHARED, 0, &at) == 0, "map",
	      0);
	volatile uint64_t *w = (volatile uint64_t *)at;

	CHECK(w[3] == pattern(0, 0, 3), "page 0", w[3]);
	w[2 * PAGE / 8] = 0x5151;
	fmt_args(args, "client", obj_ids[0], 0);
	r = wait_for(spawn(args));
	CHECK(r == 0, "client", r);
	/* The child's write is in our mapping: one frame for both. */
	CHECK(w[PAGE / 8] == 0xC1C1, "child's write", w[PAGE / 8]);
	CHECK(pager_memobj_stat(pager, obj_ids[0], &size, &rights, &owner, &cached, &maps) == 0 &&
	          size == PAGES * PAGE && rights == RW && owner == st->pid && cached == 3 &&
	          maps == 1,
	      "stat", cached * 10 + maps);
	/* Sync: the dirty pages go back to the store. */
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_SYNC, at, 0, 0, &out) == 0 && out >= 2, "sync",
	      out);
	CHECK(((uint64_t *)store[0][1])[0] == 0xC1C1 && ((uint64_t *)store[0][2])[0] == 0x5151,
	      "store", ((uint64_t *)store[0][1])[0]);
	/* A write after the sync is dirty again; unmap hands it back. */
	w[3 * PAGE / 8] = 0x7777;
	CHECK(pager_unmap(pager, at) == 0, "unmap", 0);
	CHECK(((uint64_t *)store[0][3])[0] == 0x7777, "unmap wrote back",
	      ((uint64_t *)store[0][3])[0]);
	CHECK(object_destroy(0) == 0, "destroy", 0);
	done(id, 0, 0);
}

/* A private mapping: its writes are its own (copy on write); it sees the object's before. */
static void t_private(void)
{
	const char *id = "private";
	uint64_t at, out;
	char args[64];
	int64_t r;

	CHECK(object_new(0) == 0, "create", 0);
	CHECK(pager_memobj_map(pager, obj_ids[0], 0, PAGES * PAGE, RW, SHARED, 0, &at) == 0, "map",
	      0);
	volatile uint64_t *w = (volatile uint64_t *)at;

	w[2 * PAGE / 8] = 0x5151;
	fmt_args(args, "client", obj_ids[0], 1);
	r = wait_for(spawn(args));
	CHECK(r == 0, "client", r);
	/* Its writes to pages 1 and 2 reached neither our mapping nor the store. */
	CHECK(w[PAGE / 8] == pattern(0, 1, 0), "child's write seen", w[PAGE / 8]);
	CHECK(w[2 * PAGE / 8 + 5] == pattern(0, 2, 5), "child's write seen", w[2 * PAGE / 8 + 5]);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_SYNC, at, 0, 0, &out) == 0, "sync", 0);
	CHECK(((uint64_t *)store[0][1])[0] == pattern(0, 1, 0), "store",
	      ((uint64_t *)store[0][1])[0]);
	/* Our own private mapping: a write there stays ours too. */
	uint64_t pv;

	CHECK(pager_memobj_map(pager, obj_ids[0], PAGE, PAGE, RW, 0, 0, &pv) == 0, "map private",
	      0);
	CHECK(*(volatile uint64_t *)pv == pattern(0, 1, 0), "private read", 0);
	*(volatile uint64_t *)pv = 0x9999;
	CHECK(w[PAGE / 8] == pattern(0, 1, 0), "private write leaked", w[PAGE / 8]);
	CHECK(pager_unmap(pager, pv) == 0 && pager_unmap(pager, at) == 0, "unmap", 0);
	CHECK(object_destroy(0) == 0, "destroy", 0);
	done(id, 0, 0);
}

/* Past the end: at map time refused; after a shrink, a touch kills the toucher (alone). */
static void t_past_end(void)
{
	const char *id = "past_end";
	uint64_t at, out;
	int64_t r;

	CHECK(object_new(0) == 0, "create", 0);
	CHECK(pager_memobj_map(pager, obj_ids[0], 0, (PAGES + 1) * PAGE, RW, SHARED, 0, &at) ==
	          MICA_ERANGE,
	      "map past the end", 0);
	CHECK(pager_memobj_map(pager, obj_ids[0], 0, PAGES * PAGE, RW, SHARED, 0, &at) == 0, "map",
	      0);
	volatile uint64_t *w = (volatile uint64_t *)at;

	w[3 * PAGE / 8] = 1; /* page 3 backed, then cut off */
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_RESIZE, obj_ids[0], 2 * PAGE - 100, 0, &out) == 0,
	      "resize", 0);
	r = touch_in_thread(at + 3 * PAGE);
	CHECK(r == MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_BUS, "page 3", r);
	r = touch_in_thread(at + 2 * PAGE + 8);
	CHECK(r == MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_BUS, "page 2", r);
	/* The page holding the new end is still there. */
	r = touch_in_thread(at + PAGE + 8);
	CHECK(r == 0, "page 1", r);
	/* Destroyed: every touch is past the end. */
	CHECK(object_destroy(0) == 0, "destroy", 0);
	r = touch_in_thread(at);
	CHECK(r == MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_BUS, "destroyed", r);
	CHECK(pager_unmap(pager, at) == 0, "unmap", 0);
	done(id, 0, 0);
}

/* The object another server (child pid) created: its number (they count from 1), or 0. */
static uint64_t object_of(uint64_t pid)
{
	uint64_t size, owner, cached, maps;
	uint32_t rights;

	for (int tries = 0; tries < 500; tries++) {
		for (uint64_t id = 1; id < 64; id++)
			if (pager_memobj_stat(pager, id, &size, &rights, &owner, &cached, &maps) ==
			        0 &&
			    owner == pid)
				return id;
		mica_sleep(10000000);
	}
	return 0;
}

/* A server that dies (die) or never answers (hang) mid-fault: the toucher is killed, we go on. */
static void t_bad_server(const char *id, bool hang)
{
	char args[64];
	uint64_t pid, obj, at, f, t, d;
	int32_t l;
	struct pager_usage u;
	int64_t r;

	fmt_args(args, hang ? "srv 1" : "srv 0", st->pid, 0);
	CHECK((pid = spawn(args)) != 0, "spawn", 0);
	CHECK((obj = object_of(pid)) != 0, "no object", pid);
	CHECK(pager_memobj_map(pager, obj, 0, PAGE, RW, SHARED, 0, &at) == 0, "map", 0);
	uint64_t t0 = (uint64_t)mica_clock();

	r = touch_in_thread(at);
	CHECK(r == MICA_EXIT_PAGER * 1000 +
	               (hang ? MICA_PAGER_KILL_TIMEOUT : MICA_PAGER_KILL_SERVER),
	      "toucher", r);
	/* The pager answered every call meanwhile at once, and answers after. */
	CHECK(slow_calls == 0, "pager held up", slow_calls);
	CHECK(pager_stats(pager, &f, &t, &l, &d, &u) == 0, "stats", 0);
	if (hang) {
		/* Killed at the timeout (the boot sets 300 ms), not before. */
		uint64_t waited = (uint64_t)mica_clock() - t0;

		CHECK(waited >= 300000000ULL && waited < 5000000000ULL, "waited", waited / 1000000);
		CHECK(pager_kill(pager, pid, 9) == 0, "kill", 0);
	}
	r = wait_for(pid);
	CHECK(r == (hang ? MICA_EXIT_KILLED * 1000 + 9 : MICA_EXIT_NORMAL * 1000 + 3), "server", r);
	/* Its objects went with it: a touch now fails at once, the object is gone. */
	r = touch_in_thread(at);
	CHECK(r == MICA_EXIT_PAGER * 1000 + MICA_PAGER_KILL_SERVER, "after", r);
	CHECK(pager_memobj_stat(pager, obj, &f, (uint32_t *)&l, &t, &d, &d) == MICA_ENOENT, "stat",
	      0);
	CHECK(pager_unmap(pager, at) == 0, "unmap", 0);
	done(id, 0, 0);
}

/*
 * More faults wait on a server than the pager has workers (WORKER_MAX, 6):
 * each of 7 threads touches a page of a server that never answers. Six
 * wait; the seventh is answered "resume" and faults again until a worker
 * is free, then waits too: all 7 end with TIMEOUT. Meanwhile a sync or an
 * unmap that would wait on a server says MICA_EBUSY and changes nothing,
 * and the pager answers every other call at once.
 */
#define BUSY_THREADS 7

static void t_busy(void)
{
	const char *id = "workers_busy";
	char args[64];
	uint64_t pid, obj, at, mine, out, tids[BUSY_THREADS];
	uint32_t reason;
	uint64_t code;
	int64_t r;

	fmt_args(args, "srv 1", st->pid, 0);
	CHECK((pid = spawn(args)) != 0, "spawn", 0);
	CHECK((obj = object_of(pid)) != 0, "no object", pid);
	CHECK(pager_memobj_map(pager, obj, 0, BAD_PAGES * PAGE, RW, SHARED, 0, &at) == 0, "map", 0);
	/* A dirty page of our own object, to sync while the workers are busy. */
	CHECK(object_new(1) == 0, "create", 0);
	CHECK(pager_memobj_map(pager, obj_ids[1], 0, PAGE, RW, SHARED, 0, &mine) == 0, "map mine",
	      0);
	*(volatile uint64_t *)mine = 0x4242;
	for (unsigned i = 0; i < BUSY_THREADS; i++)
		CHECK(pager_thread_create(pager, (uint64_t)(uintptr_t)toucher, at + i * PAGE,
		                          &tids[i]) == 0,
		      "thread", i);
	mica_sleep(100000000); /* every toucher has faulted; the servers' timeout is 300 ms */
	int64_t t0 = mica_clock();

	r = pager_memobj_ctl(pager, MICA_MEMOBJ_SYNC, mine, 0, 0, &out);
	CHECK(r == MICA_EBUSY, "sync while busy", r);
	CHECK(pager_unmap(pager, mine) == MICA_EBUSY, "unmap while busy", 0);
	CHECK(mica_clock() - t0 < 50000000, "pager held up", mica_clock() - t0);
	for (unsigned i = 0; i < BUSY_THREADS; i++) {
		while ((r = pager_thread_join(pager, tids[i], &reason, &code)) == MICA_EAGAIN)
			mica_sleep(10000000);
		CHECK(r == 0 && reason == MICA_EXIT_PAGER && code == MICA_PAGER_KILL_TIMEOUT,
		      "toucher", r < 0 ? r : (int64_t)(reason * 1000 + code));
	}
	/* The workers are free again: the sync and the unmap go through, nothing was lost. */
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_SYNC, mine, 0, 0, &out) == 0 && out == 1, "sync",
	      out);
	CHECK(((uint64_t *)store[1][0])[0] == 0x4242, "store", ((uint64_t *)store[1][0])[0]);
	CHECK(pager_unmap(pager, mine) == 0 && pager_unmap(pager, at) == 0, "unmap", 0);
	CHECK(object_destroy(1) == 0, "destroy", 0);
	CHECK(pager_kill(pager, pid, 9) == 0, "kill", 0);
	r = wait_for(pid);
	CHECK(r == MICA_EXIT_KILLED * 1000 + 9, "server", r);
	done(id, 0, 0);
}

/* Requests no client should make: each refused with its code. */
static void t_errors(void)
{
	const char *id = "errors";
	uint64_t at, at2, out;
	mica_handle_t none = MICA_HANDLE_NONE;

	(void)none;
	CHECK(object_new(1) == 0, "create", 0);
	uint64_t o = obj_ids[1];

	CHECK(pager_memobj_map(pager, 999999, 0, PAGE, RW, 0, 0, &at) == MICA_ENOENT, "no object",
	      0);
	CHECK(pager_memobj_map(pager, o, 1, PAGE, RW, 0, 0, &at) == MICA_EALIGN, "offset", 0);
	CHECK(pager_memobj_map(pager, o, 0, 0, RW, 0, 0, &at) == MICA_EINVAL, "length 0", 0);
	CHECK(pager_memobj_map(pager, o, 0, PAGE, MICA_MAP_WRITE, 0, 0, &at) == MICA_EINVAL,
	      "no read", 0);
	CHECK(pager_memobj_map(pager, o, 0, PAGE, RW, 0x80, 0, &at) == MICA_EINVAL, "flags", 0);
	CHECK(pager_memobj_map(pager, o, 0, PAGE, MICA_MAP_READ | MICA_MAP_EXEC, 0, 0, &at) ==
	          MICA_EPERM,
	      "exec not granted", 0);
	CHECK(pager_memobj_map(pager, o, PAGES * PAGE, PAGE, RW, 0, 0, &at) == MICA_ERANGE, "range",
	      0);
	CHECK(pager_memobj_ctl(pager, 77, o, 0, 0, &out) == MICA_EINVAL, "op", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_RESIZE, 999999, 0, 0, &out) == MICA_ENOENT,
	      "resize none", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_RESIZE, o, MICA_MEMOBJ_MAX_SIZE + 1, 0, &out) ==
	          MICA_EINVAL,
	      "resize too big", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_CREATE, PAGE, MICA_MAP_WRITE, 0, &out) ==
	          MICA_EINVAL,
	      "create rights", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_GRANT, o, 999999, RW, &out) == MICA_EINVAL,
	      "grant no pid", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_SYNC, 0x1000, 0, 0, &out) == MICA_ENOENT,
	      "sync no mapping", 0);
	/* Rights beyond the object's: a read-only mapping cannot be written (the toucher dies). */
	CHECK(pager_memobj_map(pager, o, 0, PAGE, MICA_MAP_READ, SHARED, 0, &at) == 0, "map ro", 0);
	CHECK(*(volatile uint64_t *)at == pattern(1, 0, 0), "read", 0);
	/* memobj_write: into the cached page (the mapping sees it), and its errors. */
	uint64_t word = 0x1234567890ABCDEFull, n = 9;

	CHECK(pager_memobj_write(pager, o, 8, (const uint8_t *)&word, 8, &n) == 0 && n == 1,
	      "write cached", (long)n);
	CHECK(((volatile uint64_t *)at)[1] == word, "write seen", 0);
	CHECK(pager_memobj_write(pager, o, PAGE, (const uint8_t *)&word, 8, &n) == 0 && n == 0,
	      "write uncached", (long)n);
	CHECK(pager_memobj_write(pager, 999999, 0, (const uint8_t *)&word, 8, &n) == MICA_ENOENT,
	      "write no object", 0);
	CHECK(pager_memobj_write(pager, o, PAGES * PAGE - 4, (const uint8_t *)&word, 8, &n) ==
	          MICA_ERANGE,
	      "write past end", 0);
	CHECK(pager_memobj_write(pager, o, UINT64_MAX, (const uint8_t *)&word, 1, &n) ==
	          MICA_ERANGE,
	      "write offset", 0);
	/* WRITEBACK: page 0 is mapped read-only, so clean; its errors. */
	uint64_t wb = 0;

	CHECK(pager_memobj_map(pager, o, 0, PAGE, RW, SHARED, 0, &at2) == 0, "map rw", 0);
	((volatile uint64_t *)at2)[3] = 0x77; /* dirty now */
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o, 0, 0, &out) == 0 && out == 1,
	      "wb dirty", (long)out);
	CHECK(pager_map(pager, 0, 1, RW, MICA_PAGER_MAP_FILL, &wb) == 0, "wb page", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o, 0, wb, &out) == 0 && out == 1 &&
	          ((volatile uint64_t *)wb)[3] == 0x77 && ((volatile uint64_t *)wb)[1] == word,
	      "wb copied", (long)out);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o, 0, wb, &out) == 0 && out == 0,
	      "wb clean", (long)out);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o, PAGE, 0, &out) == 0 && out == 0,
	      "wb uncached", (long)out);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o, 1, 0, &out) == MICA_EALIGN,
	      "wb offset", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o, 0, wb + 1, &out) == MICA_EALIGN,
	      "wb dst align", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o, PAGES * PAGE, 0, &out) ==
	          MICA_ERANGE,
	      "wb range", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o, 0, at2, &out) == MICA_EINVAL,
	      "wb dst object", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, 999999, 0, 0, &out) == MICA_ENOENT,
	      "wb no object", 0);
	CHECK(pager_unmap(pager, wb) == 0 && pager_unmap(pager, at2) == 0, "wb unmap", 0);
	CHECK(object_destroy(1) == 0, "destroy", 0);
	CHECK(pager_memobj_ctl(pager, MICA_MEMOBJ_DESTROY, o, 0, 0, &out) == MICA_ENOENT, "again",
	      0);
	CHECK(pager_unmap(pager, at) == 0, "unmap", 0);
	done(id, 0, 0);
}

/* ---- the benchmark (make bench): a fault served by a memory server ---- */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * pager.fault.object: reads of untouched pages of a shared mapping, each a
 * fault the pager serves by calling this process's serving thread
 * (page_in into the window, a worker waiting on it), over `rounds` maps of
 * an object; printed when print is set (the first round warms up).
 */
static void bench(unsigned rounds, bool print)
{
	uint64_t at, t, sum = 0, n = 0;

	if (object_new(2) < 0)
		return;
	for (unsigned k = 0; k < rounds; k++) {
		if (pager_memobj_map(pager, obj_ids[2], 0, PAGES * PAGE, RW, SHARED, 0, &at) < 0)
			break;
		for (uint64_t i = 0; i < PAGES; i++, n++) {
			t = rdtsc();
			(void)*(volatile uint64_t *)(at + i * PAGE);
			sum += rdtsc() - t;
		}
		(void)pager_unmap(pager, at);
		/* Dropped from the pager's cache: the next round asks the server again. */
		(void)pager_memobj_ctl(pager, MICA_MEMOBJ_RESIZE, obj_ids[2], 0, 0, &t);
		(void)pager_memobj_ctl(pager, MICA_MEMOBJ_RESIZE, obj_ids[2], PAGES * PAGE, 0, &t);
	}
	(void)object_destroy(2);
	if (!print || !n)
		return;
	say("bench pager.fault.object ");
	say_num((long)(sum / n));
	say(" instr/op n=");
	say_num((long)n);
	say("\n");
}

int main(const struct mica_startup *s)
{
	st = s;
	pager = s->pager;
	if (s->argc >= 3 && str_eq(s->argv[1], "client"))
		return client(parse_num(s->argv[2]), s->argc > 3 ? parse_num(s->argv[3]) : 0);
	if (s->argc >= 4 && str_eq(s->argv[1], "srv"))
		return bad_server(parse_num(s->argv[2]) == 1, parse_num(s->argv[3]));
	if (serve_start(serve_thread) < 0) {
		say("memtest: cannot serve\n");
		return 1;
	}
	if (s->argc >= 2 && str_eq(s->argv[1], "bench")) {
		bench(1, false);
		bench(16, true);
		say("bench: done\n");
		return 0;
	}
	/*
	 * Every case twice: first a warm-up pass, unreported, which backs the
	 * pages this program touches for the first time (its store, its
	 * threads' stacks, its bss) and fills the pager's slabs as the cases
	 * do; then the counted pass, after which every frame must be back.
	 */
	for (int pass = 0; pass < 2; pass++) {
		warming = pass == 0;
		base = pool_free();
		t_shared();
		t_private();
		t_past_end();
		t_errors();
		t_bad_server("server_dies", false);
		t_bad_server("server_hangs", true);
		t_busy();
	}
	return failed ? 1 : 0;
}
