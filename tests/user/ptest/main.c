/*
 * ptest: the pager's system tests, started by the pager as init (or as a
 * child of itself, with a mode in argv[1]). Each case prints
 * "TEST pager.<id> PASS" or "TEST pager.<id> FAIL <reason> <detail>";
 * tests/system/test_pager.py reads them and the pager's count lines.
 */
#include <idl/pager_client.h>
#include <libipc/syscall.h>
#include <mica/fault.h>
#include <mica/idl.h>
#include <mica/pager.h>
#include "out.h"
#include "ptest.h"

const struct mica_startup *st;
mica_handle_t pager;

/* Data the image fills in, and bss that must read zero. */
static volatile uint64_t data_word = 0x1234567890abcdefULL;
static const char rodata_text[] = "read-only text";
static volatile uint8_t bss_block[64 << 10];
extern char _start[]; /* the entry (tests/user/lib/start.c), in the text */

/* ---- output ---- */

bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

int64_t parse_num(const char *s)
{
	int64_t v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

/* A case's result: fail NULL is a pass. */
void case_result(const char *id, const char *fail, int64_t detail)
{
	result_in("pager", id, fail, (long)detail);
}

/* ---- helpers ---- */

/*
 * The pool's free frames, counting those given to the kernel's reserve as
 * free (they left the pool for good; tests compare counts across it).
 */
uint64_t pool_free(void)
{
	uint64_t f = 0, t, d = 0;
	int32_t l;
	struct pager_usage u;

	pager_stats(pager, &f, &t, &l, &d, &u);
	return f + d;
}

static uint64_t donated(void)
{
	uint64_t f, t, d = 0;
	int32_t l;
	struct pager_usage u;

	pager_stats(pager, &f, &t, &l, &d, &u);
	return d;
}

struct pager_usage usage(void)
{
	uint64_t f, t, d;
	int32_t l;
	struct pager_usage u = {0};

	pager_stats(pager, &f, &t, &l, &d, &u);
	return u;
}

/* Spawn ptest.elf with args and wait for its end; reason and code out. */
static int run_child(const char *args, uint32_t *reason, uint64_t *code)
{
	uint64_t pid;
	int r = pager_spawn(pager, "ptest.elf", args, &pid);

	if (r < 0)
		return r;
	while ((r = pager_wait(pager, pid, reason, code)) == MICA_EAGAIN)
		mica_yield();
	return r;
}

/* ---- benchmarks (argv[1] "bench": make bench, under -icount rdtsc counts instructions) ---- */

static int bench_process_bytes(void); /* after wait_for, below */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void report(const char *name, uint64_t ticks, uint64_t n)
{
	say("bench ");
	say(name);
	say(" ");
	say_num((int64_t)(ticks / n));
	say(" instr/op n=");
	say_num((int64_t)n);
	say("\n");
}

static int bench(void)
{
	const uint64_t n = 512;
	uint64_t at, t0, t1, pid;

	/* A demand-zero fault: trap, call to the pager, frame zeroed and mapped, resume. */
	if (pager_map(pager, 0, n, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at) < 0)
		return 1;
	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		*(volatile uint64_t *)(at + i * PAGE) = i;
	t1 = rdtsc();
	report("pager.fault.zero", t1 - t0, n);
	/* The same pages again: no fault, the loop's own cost. */
	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		*(volatile uint64_t *)(at + i * PAGE) = i;
	t1 = rdtsc();
	report("pager.touch.resident", t1 - t0, n);
	/* Unmapping them (one call; frames back to the pool), per page. */
	t0 = rdtsc();
	pager_unmap(pager, at);
	t1 = rdtsc();
	report("pager.unmap.per_page", t1 - t0, n);
	/* Backed at once by map: per page, no faults. */
	t0 = rdtsc();
	if (pager_map(pager, 0, n, MICA_MAP_READ | MICA_MAP_WRITE, MICA_PAGER_MAP_FILL, &at) < 0)
		return 2;
	t1 = rdtsc();
	report("pager.map_fill.per_page", t1 - t0, n);
	pager_unmap(pager, at);
	/* A process: spawn, run to its exit (a few faults), reclaim, wait. */
	t0 = rdtsc();
	for (int i = 0; i < 16; i++) {
		if (pager_spawn(pager, "ptest.elf", "exit 0", &pid) < 0 || wait_for(pid) != 0)
			return 3;
	}
	t1 = rdtsc();
	report("pager.spawn_exit", t1 - t0, 16);
	if (bench_fork() < 0)
		return 4;
	int r = bench_process_bytes();

	if (r)
		return r;
	say("bench: done\n");
	return 0;
}

/* ---- child modes ---- */

/* Use depth KiB of stack, one page at a time from the top down; returns a checksum. */
static uint64_t __attribute__((noinline)) stack_eat(int64_t kib)
{
	volatile uint8_t frame[1024];

	for (unsigned i = 0; i < sizeof(frame); i += 64)
		frame[i] = (uint8_t)kib;
	if (kib <= 1)
		return frame[0];
	return stack_eat(kib - 1) + frame[0];
}

static int child(int argc, char **argv)
{
	const char *mode = argv[1];
	int rc;

	if (str_eq(mode, "bench"))
		return bench();
	if (str_eq(mode, "exit"))
		return argc > 2 ? (int)parse_num(argv[2]) : 0;
	if (str_eq(mode, "unmapped"))
		*(volatile uint64_t *)0x300000000ULL = 1; /* in no region */
	if (str_eq(mode, "wtext"))
		*(volatile uint8_t *)_start = 0xcc; /* text is read and execute */
	if (str_eq(mode, "wrodata"))
		*(volatile char *)rodata_text = 'x';
	if (str_eq(mode, "xdata"))
		((void (*)(void))(uint64_t)&data_word)(); /* data is not executable */
	if (str_eq(mode, "yield")) {
		for (int64_t i = parse_num(argv[2]); i > 0; i--)
			mica_yield();
		return 0;
	}
	if (str_eq(mode, "orphans")) {
		/* Children it never waits for: the pager reclaims them when they end. */
		uint64_t pid;

		for (int i = 0; i < 3; i++)
			if (pager_spawn(pager, "ptest.elf", "yield 50", &pid) < 0)
				return 1;
		return 0;
	}
	if (family_child(mode, argc, argv, &rc) || limits_child(mode, argc, argv, &rc) ||
	    procs_child(mode, &rc))
		return rc;
	if (str_eq(mode, "stack"))
		return stack_eat(parse_num(argv[2])) ? 0 : 1;
	if (str_eq(mode, "shared") || str_eq(mode, "shared_ro") || str_eq(mode, "given")) {
		/* The parent shares or gives a region after spawning us: it lands at the map base.
		 */
		volatile uint64_t *p = (volatile uint64_t *)MICA_PAGER_MAP_BASE;

		while (usage().regions < 6)
			mica_yield();
		if (str_eq(mode, "given"))
			return p[PAGE / 8] == 0x77 ? 0 : 1;
		if (p[0] != 0xabc)
			return 1;
		p[PAGE / 8] = 0x5eed; /* shared_ro: killed here */
		return 0;
	}
	if (str_eq(mode, "sparse")) {
		/* One page every 2 MiB: each needs a page table of its own from the kernel. */
		uint64_t n = (uint64_t)parse_num(argv[2]), at;
		const uint64_t step = 512;

		if (pager_map(pager, 0, n * step, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at) < 0)
			return 2;
		for (uint64_t i = 0; i < n; i++)
			*(volatile uint64_t *)(at + i * step * PAGE) = i;
		for (uint64_t i = 0; i < n; i++)
			if (*(volatile uint64_t *)(at + i * step * PAGE) != i)
				return 3;
		return 0;
	}
	if (str_eq(mode, "oom")) {
		/* A lazy region larger than the pool, touched until a fault finds no frame. */
		uint64_t n = pool_free() + 256, at;

		if (pager_map(pager, 0, n, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at) < 0)
			return 2;
		for (uint64_t i = 0; i < n; i++)
			*(volatile uint64_t *)(at + i * PAGE) = i;
		return 3;
	}
	return 100;
}

/* ---- the cases ---- */

static void t_startup(void)
{
	const char *id = "startup";

	CHECK(st->magic == MICA_STARTUP_MAGIC && st->version == MICA_STARTUP_VERSION, "magic", 0);
	CHECK(st->argc == 1 && str_eq(st->argv[0], "ptest.elf") && !st->argv[1], "argv", st->argc);
	CHECK(st->stack_top == MICA_PAGER_STACK_TOP && st->heap_limit == MICA_PAGER_HEAP_LIMIT,
	      "layout", 0);
	struct pager_usage u = usage();

	CHECK(u.heap_start == st->heap_start && u.brk == st->heap_start, "heap", u.brk);
	case_result(id, 0, 0);
}

static void t_image(void)
{
	const char *id = "image";

	CHECK(data_word == 0x1234567890abcdefULL, "data", 0);
	CHECK(str_eq(rodata_text, "read-only text"), "rodata", 0);
	for (unsigned i = 0; i < sizeof(bss_block); i += 8)
		CHECK(*(volatile uint64_t *)&bss_block[i] == 0, "bss not zero", i);
	case_result(id, 0, 0);
}

static void t_demand_zero(void)
{
	const char *id = "demand_zero";
	uint64_t at, before = usage().resident_pages;
	int r = pager_map(pager, 0, 16, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at);

	CHECK(r == 0, "map", r);
	CHECK(usage().resident_pages == before, "backed before touch", usage().resident_pages);
	for (unsigned i = 0; i < 16 * PAGE; i += 8)
		CHECK(*(volatile uint64_t *)(at + i) == 0, "not zero", i);
	CHECK(usage().resident_pages == before + 16, "resident", usage().resident_pages - before);
	*(volatile uint64_t *)(at + 5 * PAGE) = 77;
	CHECK(*(volatile uint64_t *)(at + 5 * PAGE) == 77, "write", 0);
	CHECK((r = pager_unmap(pager, at)) == 0, "unmap", r);
	CHECK(usage().resident_pages == before, "resident after", usage().resident_pages);
	case_result(id, 0, 0);
}

static void t_heap(void)
{
	const char *id = "heap";
	uint64_t old, now, free0 = pool_free();
	int r = pager_sbrk(pager, 64 << 10, &old);

	CHECK(r == 0 && old == st->heap_start, "sbrk", r);
	for (uint64_t a = old; a < old + (64 << 10); a += PAGE) {
		CHECK(*(volatile uint64_t *)a == 0, "grown heap not zero", a);
		*(volatile uint64_t *)a = a;
	}
	CHECK(pool_free() == free0 - 16, "frames", free0 - pool_free());
	/* Shrink to 8 KiB: the pages past it are unmapped and freed. */
	CHECK((r = pager_brk(pager, old + 8192, &now)) == 0 && now == old + 8192, "shrink", r);
	CHECK(pool_free() == free0 - 2, "frames after shrink", free0 - pool_free());
	CHECK(*(volatile uint64_t *)(old + PAGE) == old + PAGE, "kept page", 0);
	/* Grow again: fresh zero pages where the old ones were. */
	CHECK((r = pager_sbrk(pager, 32 << 10, &now)) == 0 && now == old + 8192, "regrow", r);
	CHECK(*(volatile uint64_t *)(old + 4 * PAGE) == 0, "regrown page not zero", 0);
	CHECK((r = pager_brk(pager, old, &now)) == 0 && now == old, "shrink to start", r);
	CHECK(pool_free() == free0, "frames at the end", free0 - pool_free());
	CHECK(usage().regions == 5, "regions", usage().regions); /* 3 image, stack, guard */
	case_result(id, 0, 0);
}

static void t_heap_limits(void)
{
	const char *id = "heap_limits";
	uint64_t now;
	int r;

	CHECK((r = pager_brk(pager, st->heap_start - 1, &now)) == MICA_EINVAL, "below", r);
	CHECK((r = pager_brk(pager, st->heap_start + MICA_PAGER_HEAP_LIMIT + 1, &now)) ==
	          MICA_ENOMEM,
	      "past limit", r);
	CHECK((r = pager_sbrk(pager, -1, &now)) == MICA_EINVAL, "negative", r);
	CHECK((r = pager_sbrk(pager, INT64_MIN, &now)) == MICA_EINVAL, "min", r);
	CHECK((r = pager_brk(pager, 0, &now)) == 0 && now == st->heap_start, "query", r);
	/* More than the pool could back (when that is within the limit). */
	uint64_t more = (pool_free() + 16) * PAGE;

	if (more <= MICA_PAGER_HEAP_LIMIT)
		CHECK((r = pager_brk(pager, st->heap_start + more, &now)) == MICA_ENOMEM,
		      "more than the pool", r);
	case_result(id, 0, 0);
}

static void t_map(void)
{
	const char *id = "map";
	uint64_t at, free0 = pool_free(), fixed = 0x200000000ULL;
	int r;

	CHECK((r = pager_map(pager, fixed, 8, MICA_MAP_READ | MICA_MAP_WRITE,
	                     MICA_PAGER_MAP_FIXED | MICA_PAGER_MAP_FILL, &at)) == 0 &&
	          at == fixed,
	      "fixed fill", r);
	CHECK(pool_free() == free0 - 8, "filled at once", free0 - pool_free());
	CHECK((r = pager_map(pager, fixed + PAGE, 1, MICA_MAP_READ, MICA_PAGER_MAP_FIXED, &at)) ==
	          MICA_EEXIST,
	      "overlap", r);
	CHECK((r = pager_map(pager, 0, 1, MICA_MAP_WRITE | MICA_MAP_EXEC | MICA_MAP_READ, 0,
	                     &at)) == MICA_EPERM,
	      "w+x", r);
	CHECK((r = pager_map(pager, 0, 0, MICA_MAP_READ, 0, &at)) == MICA_EINVAL, "zero pages", r);
	CHECK((r = pager_map(pager, 0, 1, MICA_MAP_READ, 0x80, &at)) == MICA_EINVAL, "flags", r);
	CHECK((r = pager_map(pager, 123, 1, MICA_MAP_READ, MICA_PAGER_MAP_FIXED, &at)) ==
	          MICA_EALIGN,
	      "align", r);
	CHECK((r = pager_map(pager, 0, pool_free() + 1, MICA_MAP_READ, MICA_PAGER_MAP_FILL, &at)) ==
	          MICA_ENOMEM,
	      "fill more than the pool", r);
	CHECK((r = pager_unmap(pager, fixed + PAGE)) == MICA_ENOENT, "unmap middle", r);
	CHECK((r = pager_unmap(pager, (uint64_t)_start)) == MICA_EINVAL, "unmap image", r);
	CHECK((r = pager_unmap(pager, fixed)) == 0, "unmap", r);
	CHECK(pool_free() == free0, "frames", free0 - pool_free());
	case_result(id, 0, 0);
}

/* A large lazy region with a few pages touched: unmap frees exactly those. */
static void t_sparse_unmap(void)
{
	const char *id = "sparse_unmap";
	uint64_t at, free0 = pool_free(), before = usage().resident_pages;
	int r = pager_map(pager, 0, 1 << 20, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at);

	CHECK(r == 0, "map", r);
	*(volatile uint64_t *)(at + 100 * PAGE) = 1;
	*(volatile uint64_t *)(at + 101 * PAGE) = 2;
	*(volatile uint64_t *)(at + 3000 * PAGE) = 3;
	CHECK(usage().resident_pages == before + 3, "resident", usage().resident_pages - before);
	CHECK(pool_free() == free0 - 3, "frames", free0 - pool_free());
	CHECK((r = pager_unmap(pager, at)) == 0, "unmap", r);
	CHECK(usage().resident_pages == before, "resident after", usage().resident_pages);
	CHECK(pool_free() == free0, "frames after", free0 - pool_free());
	case_result(id, 0, 0);
}

/* A raw request: its reply's status (the label as a signed 32-bit number), or the call's error. */
static int64_t raw_call(uint64_t label, uint64_t w0, uint64_t w1, uint64_t w2)
{
	struct mica_msg m = {.label = label, .w = {w0, w1, w2}};
	int64_t r = mica_call(pager, &m, 0);

	return r < 0 ? r : (int64_t)(int32_t)(uint32_t)m.label;
}

/*
 * Requests no client should send: each gets its error, and the pager
 * serves on, with the pool as it was.
 */
static void t_bad_requests(void)
{
	const char *id = "bad_requests";
	uint64_t free0 = pool_free(), x, pid;
	uint32_t reason;
	int64_t r;

	/* Messages the interface does not have, or malformed. */
	CHECK((r = raw_call(MICA_IDL_LABEL(1, 99), 0, 0, 0)) == MICA_ENOMETHOD, "method", r);
	CHECK((r = raw_call(MICA_IDL_LABEL(2, 1), 0, 0, 0)) == MICA_ENOMETHOD, "interface", r);
	CHECK((r = raw_call(5, 0, 0, 0)) == MICA_ENOMETHOD, "not IDL", r);
	CHECK((r = raw_call(MICA_IDL_LABEL(1, 5), 0, 0, 0)) == MICA_EBADMSG, "spawn without buffer",
	      r);
	CHECK((r = raw_call(MICA_IDL_LABEL(1, 3), 0, 1, 1ULL << 40)) == MICA_EBADMSG,
	      "map: rights slot", r);
	CHECK((r = raw_call(MICA_LABEL_FAULT, 0, 0, 0)) == MICA_EINVAL, "forged fault", r);
	/* Values out of range. */
	CHECK((r = pager_map(pager, MICA_USER_TOP - PAGE, 2, MICA_MAP_READ, MICA_PAGER_MAP_FIXED,
	                     &x)) == MICA_ERANGE,
	      "map past the top", r);
	CHECK((r = pager_map(pager, 0, 1, MICA_MAP_READ, MICA_PAGER_MAP_FIXED, &x)) == MICA_ERANGE,
	      "map at 0", r);
	CHECK((r = pager_map(pager, UINT64_MAX & ~(PAGE - 1), 1, MICA_MAP_READ,
	                     MICA_PAGER_MAP_FIXED, &x)) == MICA_ERANGE,
	      "map at the end", r);
	CHECK((r = pager_map(pager, 0, UINT64_MAX, MICA_MAP_READ, 0, &x)) == MICA_EINVAL, "huge",
	      r);
	CHECK((r = pager_map(pager, 0, 1, MICA_MAP_READ | 0x10, 0, &x)) == MICA_EINVAL, "rights",
	      r);
	CHECK((r = pager_map(pager, 0, 1, 0, 0, &x)) == MICA_EINVAL, "no rights", r);
	CHECK((r = pager_brk(pager, UINT64_MAX, &x)) == MICA_ENOMEM, "brk max", r);
	CHECK((r = pager_sbrk(pager, INT64_MAX, &x)) == MICA_ENOMEM, "sbrk max", r);
	CHECK((r = pager_unmap(pager, 0)) == MICA_ENOENT, "unmap 0", r);
	CHECK((r = pager_wait(pager, 0, &reason, &x)) == MICA_ENOENT, "wait 0", r);
	CHECK((r = pager_wait(pager, UINT64_MAX, &reason, &x)) == MICA_ENOENT, "wait max", r);
	CHECK((r = pager_share(pager, 0, 0, MICA_MAP_READ, &x)) == MICA_ENOENT, "share", r);
	CHECK((r = pager_give(pager, UINT64_MAX, UINT64_MAX, &x)) == MICA_ENOENT, "give", r);
	/* A long argument string: more words than argv holds. */
	CHECK((r = pager_spawn(pager, "ptest.elf",
	                       "exit 7 a b c d e f g h i j k l m n o p q r s t u v w x y z "
	                       "0 1 2 3 4 5 6 7 8 9 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	                       &pid)) == 0,
	      "spawn long args", r);
	CHECK((r = wait_for(pid)) == 7, "long args child", r);
	CHECK(pool_free() == free0, "frames", free0 - pool_free());
	case_result(id, 0, 0);
}

static struct mica_pager_region region_list[MICA_PAGER_REGIONS_MAX];

/* The caller's regions as the pager lists them, against what ptest knows of itself. */
static void t_regions(void)
{
	const char *id = "regions";
	struct mica_pager_region *list = region_list;
	uint32_t total = 0, len = 0;
	uint64_t at, backed = 0;
	int r = pager_map(pager, 0, 3, MICA_MAP_READ, MICA_PAGER_MAP_FILL, &at);

	CHECK(r == 0, "map", r);
	CHECK((r = pager_regions(pager, 0, 0, &total, list, &len)) == 0, "call", r);
	CHECK(total == 6 && len == 6 * sizeof(list[0]), "count", total);
	/* Sorted: text, rodata, data+bss, the mapping, guard, stack. */
	CHECK(list[0].kind == MICA_PAGER_KIND_IMAGE &&
	          list[0].rights == (MICA_MAP_READ | MICA_MAP_EXEC) && list[0].start == 0x400000,
	      "text", list[0].rights);
	CHECK(list[1].kind == MICA_PAGER_KIND_IMAGE && list[1].rights == MICA_MAP_READ, "rodata",
	      list[1].rights);
	CHECK(list[2].kind == MICA_PAGER_KIND_IMAGE &&
	          list[2].rights == (MICA_MAP_READ | MICA_MAP_WRITE) &&
	          list[2].end == st->heap_start,
	      "data", list[2].rights);
	CHECK(list[3].kind == MICA_PAGER_KIND_ANON && list[3].start == at && list[3].backed == 3,
	      "map", list[3].backed);
	CHECK(list[4].kind == MICA_PAGER_KIND_STACK && list[4].rights == 0 &&
	          list[4].end == list[5].start,
	      "guard", list[4].rights);
	CHECK(list[5].kind == MICA_PAGER_KIND_STACK && list[5].end == MICA_PAGER_STACK_TOP, "stack",
	      list[5].end);
	for (uint32_t i = 0; i < total; i++)
		backed += list[i].backed;
	CHECK(backed == usage().resident_pages, "backed", backed);
	/* From the fifth on; a stranger's; past the end. */
	CHECK((r = pager_regions(pager, 0, 4, &total, list, &len)) == 0 && total == 6 &&
	          len == 2 * sizeof(list[0]) && list[0].kind == MICA_PAGER_KIND_STACK,
	      "from 4", r);
	CHECK((r = pager_regions(pager, 0, 100, &total, list, &len)) == 0 && len == 0, "past", r);
	CHECK((r = pager_regions(pager, st->pid + 1, 0, &total, list, &len)) == MICA_ENOENT,
	      "no such process", r);
	CHECK((r = pager_unmap(pager, at)) == 0, "unmap", r);
	case_result(id, 0, 0);
}

/* A child is killed by the pager with code, and only it. */
static void t_kill(const char *id, const char *args, uint64_t want)
{
	uint32_t reason = 0;
	uint64_t code = 0, free0 = pool_free();
	int r = run_child(args, &reason, &code);

	CHECK(r == 0, "spawn/wait", r);
	CHECK(reason == MICA_EXIT_PAGER, "reason", reason);
	CHECK(code == want, "code", code);
	CHECK(pool_free() == free0, "frames", free0 - pool_free());
	case_result(id, 0, 0);
}

static void t_stack_growth(void)
{
	const char *id = "stack_growth";
	uint32_t reason = 9;
	uint64_t code = 9;
	int r = run_child("stack 512", &reason, &code);

	CHECK(r == 0 && reason == MICA_EXIT_NORMAL && code == 0, "child",
	      (int64_t)reason * 100 + (int64_t)code);
	case_result(id, 0, 0);
}

static void t_spawn_many(void)
{
	const char *id = "spawn_many";
	uint64_t free0 = pool_free(), pids[8];
	char args[16] = "exit 0";

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 8; i++) {
			args[5] = (char)('0' + i);
			int r = pager_spawn(pager, "ptest.elf", args, &pids[i]);

			CHECK(r == 0, "spawn", r);
		}
		for (int i = 0; i < 8; i++) {
			uint32_t reason;
			uint64_t code;
			int r;

			while ((r = pager_wait(pager, pids[i], &reason, &code)) == MICA_EAGAIN)
				mica_yield();
			CHECK(r == 0 && reason == MICA_EXIT_NORMAL && code == (uint64_t)i, "exit",
			      r);
			CHECK((r = pager_wait(pager, pids[i], &reason, &code)) == MICA_ENOENT,
			      "waited twice", r);
		}
	}
	CHECK(pool_free() == free0, "frames", free0 - pool_free());
	case_result(id, 0, 0);
}

/* More children than the pager has slots: MICA_ENOMEM, and all is well after. */
static void t_spawn_limit(void)
{
	const char *id = "spawn_limit";
	uint64_t free0 = pool_free(), pids[40];
	int n = 0, r = 0;

	/* More children at once than the pager's old fixed table (32) held: no fixed limit now. */
	while (n < 40 && (r = pager_spawn(pager, "ptest.elf", "yield 200", &pids[n])) == 0)
		n++;
	for (int i = 0; i < n; i++) {
		int64_t w = wait_for(pids[i]);

		CHECK(w == 0, "child", w);
	}
	CHECK(n == 40, "children", r);
	for (int i = 0; i < 100000 && pool_free() != free0; i++)
		mica_yield();
	CHECK(pool_free() == free0, "frames", free0 - pool_free());
	case_result(id, 0, 0);
}

/* A child that leaves children behind: they run on, pass to us, and end, with nothing kept. */
static void t_orphans(void)
{
	const char *id = "orphans";
	uint64_t free0 = pool_free();
	uint32_t reason = 9;
	uint64_t code = 9;
	int r = run_child("orphans", &reason, &code);

	CHECK(r == 0 && reason == MICA_EXIT_NORMAL && code == 0, "child",
	      (int64_t)reason * 100 + (int64_t)code);
	for (int i = 0; i < 100000 && pool_free() != free0; i++)
		mica_yield();
	CHECK(pool_free() == free0, "frames", free0 - pool_free());
	/* They passed to us (the init here): each one's end waits for our wait. */
	CHECK((r = family_reap()) == 3, "adopted", r);
	case_result(id, 0, 0);
}

static void t_spawn_errors(void)
{
	const char *id = "spawn_errors";
	uint64_t pid;
	uint32_t reason;
	uint64_t code;
	int r;

	CHECK((r = pager_spawn(pager, "nosuch.elf", "", &pid)) == MICA_ENOENT, "no module", r);
	CHECK((r = pager_spawn(pager, "pager.elf", "", &pid)) == MICA_EPERM, "the pager", r);
	CHECK((r = pager_wait(pager, 12345, &reason, &code)) == MICA_ENOENT, "wait stranger", r);
	CHECK((r = pager_wait(pager, st->pid, &reason, &code)) == MICA_ENOENT, "wait self", r);
	case_result(id, 0, 0);
}

static void t_oom(void)
{
	const char *id = "oom";
	uint32_t reason = 0;
	uint64_t code = 0, free0 = pool_free(), at;
	int r = run_child("oom", &reason, &code);

	CHECK(r == 0 && reason == MICA_EXIT_PAGER && code == MICA_PAGER_KILL_NOMEM, "child",
	      (int64_t)reason * 100 + (int64_t)code);
	CHECK(pool_free() == free0, "frames", free0 - pool_free());
	/* The pool works again. */
	CHECK((r = pager_map(pager, 0, 64, MICA_MAP_READ | MICA_MAP_WRITE, MICA_PAGER_MAP_FILL,
	                     &at)) == 0,
	      "map after", r);
	CHECK((r = pager_unmap(pager, at)) == 0, "unmap after", r);
	case_result(id, 0, 0);
}

/* Spawn ptest.elf with args; its pid, or 0. */
uint64_t spawn(const char *args)
{
	uint64_t pid = 0;

	pager_spawn(pager, "ptest.elf", args, &pid);
	return pid;
}

/* Wait for child pid: reason * 100 + code, or a negative error. */
int64_t wait_for(uint64_t pid)
{
	uint32_t reason;
	uint64_t code;
	int r;

	while ((r = pager_wait(pager, pid, &reason, &code)) == MICA_EAGAIN)
		mica_yield();
	return r < 0 ? r : (int64_t)reason * 100 + (int64_t)code;
}

/* Reserve frames the kernel holds now (donations move total and free alike). */
static uint64_t kernel_frames(void)
{
	struct mica_mem_stats ms = {0};

	mica_mem_stats(&ms);
	return ms.reserve_total - ms.reserve_free;
}

/*
 * What the kernel holds for a minimal process (make bench:
 * meta.kernel_bytes_per_process): its address space, thread, handles and
 * page tables, for children of ptest in its yield loop (each has run: its
 * image, stack and startup page are mapped), from mem_stats. Counted from
 * after the first child to after the last, so what the first one alone
 * brings (a partial slab filled, a table the pager's own bookkeeping
 * needed) is left out.
 */
static int bench_process_bytes(void)
{
	enum { np = 8 };
	uint64_t pid[np], first = 0;

	for (int i = 0; i < np; i++) {
		if (pager_spawn(pager, "ptest.elf", "yield 100000000", &pid[i]) < 0)
			return 4;
		for (int k = 0; k < 20; k++)
			mica_yield(); /* it reaches its loop */
		if (i == 0)
			first = kernel_frames();
	}
	uint64_t held = kernel_frames() - first;

	for (int i = 0; i < np; i++)
		if (pager_kill(pager, pid[i], 0) < 0 || wait_for(pid[i]) < 0)
			return 5;
	say("bench meta.kernel_bytes_per_process ");
	say_num((int64_t)(held * PAGE / (np - 1)));
	say(" bytes n=");
	say_num(np - 1);
	say("\n");
	return 0;
}

/* kill: a parent ends its running child; everything it held comes back. */
static void t_kill_child(void)
{
	const char *id = "kill";
	uint64_t free0 = pool_free(), pid, code;
	uint32_t reason;
	int r;

	CHECK((r = pager_spawn(pager, "ptest.elf", "yield 100000000", &pid)) == 0, "spawn", r);
	mica_yield(); /* it runs, and touches its stack and image */
	CHECK((r = pager_kill(pager, pid, 77)) == 0, "kill", r);
	/* Its exit notice reached the pager before this call: it has ended. */
	CHECK((r = pager_kill(pager, pid, 0)) == MICA_EPEER, "kill of an ended child", r);
	CHECK((r = pager_wait(pager, pid, &reason, &code)) == 0, "wait after kill", r);
	CHECK(reason == MICA_EXIT_KILLED && code == 77, "wait after kill: reason", reason);
	CHECK((r = pager_kill(pager, pid, 0)) == MICA_ENOENT, "kill of a forgotten child", r);
	/* Not a child of ours: refused. */
	CHECK((r = pager_kill(pager, 0, 0)) == MICA_ENOENT, "kill 0", r);
	CHECK((r = pager_kill(pager, UINT64_MAX, 0)) == MICA_ENOENT, "kill max", r);
	CHECK((r = pager_kill(pager, st->pid, 0)) == MICA_ENOENT, "kill of itself", r);
	CHECK(pool_free() == free0, "frames", (int64_t)(free0 - pool_free()));
	case_result(id, 0, 0);
}

static void t_share(void)
{
	const char *id = "share";
	uint64_t at, dat, free0 = pool_free(), pid;
	int64_t w;
	int r = pager_map(pager, 0, 4, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at);

	CHECK(r == 0, "map", r);
	*(volatile uint64_t *)at = 0xabc;
	CHECK((pid = spawn("shared")) != 0, "spawn", 0);
	r = pager_share(pager, at, pid, MICA_MAP_READ | MICA_MAP_WRITE, &dat);
	CHECK(r == 0 && dat == MICA_PAGER_MAP_BASE, "share", r);
	CHECK((w = wait_for(pid)) == 0, "child", w);
	CHECK(*(volatile uint64_t *)(at + PAGE) == 0x5eed, "child's write not seen", 0);
	/* The child is gone; its sharer keeps the frames. */
	CHECK(pool_free() == free0 - 4, "frames kept", free0 - pool_free());
	CHECK((r = pager_unmap(pager, at)) == 0, "unmap", r);
	CHECK(pool_free() == free0, "frames freed", free0 - pool_free());
	case_result(id, 0, 0);
}

static void t_share_readonly(void)
{
	const char *id = "share_readonly";
	uint64_t at, dat, free0 = pool_free(), pid;
	int64_t w;
	int r = pager_map(pager, 0, 2, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at);

	CHECK(r == 0, "map", r);
	*(volatile uint64_t *)at = 0xabc;
	CHECK((pid = spawn("shared_ro")) != 0, "spawn", 0);
	CHECK((r = pager_share(pager, at, pid, MICA_MAP_WRITE, &dat)) == MICA_EINVAL, "no read", r);
	CHECK((r = pager_share(pager, at, st->pid, MICA_MAP_READ, &dat)) == MICA_ENOENT, "self", r);
	CHECK((r = pager_share(pager, at + PAGE, pid, MICA_MAP_READ, &dat)) == MICA_ENOENT,
	      "not a region start", r);
	CHECK((r = pager_share(pager, at, pid, MICA_MAP_READ, &dat)) == 0, "share", r);
	CHECK((w = wait_for(pid)) == MICA_EXIT_PAGER * 100 + MICA_PAGER_KILL_ACCESS,
	      "child not killed", w);
	CHECK(*(volatile uint64_t *)(at + PAGE) == 0, "child wrote", 0);
	CHECK((r = pager_unmap(pager, at)) == 0, "unmap", r);
	CHECK(pool_free() == free0, "frames freed", free0 - pool_free());
	/* A read-only region cannot be shared writable. */
	CHECK((r = pager_map(pager, 0, 1, MICA_MAP_READ, 0, &at)) == 0, "map ro", r);
	CHECK((pid = spawn("exit 0")) != 0, "spawn 2", 0);
	CHECK((r = pager_share(pager, at, pid, MICA_MAP_READ | MICA_MAP_WRITE, &dat)) == MICA_EPERM,
	      "more rights", r);
	CHECK((w = wait_for(pid)) == 0, "child 2", w);
	CHECK((r = pager_unmap(pager, at)) == 0, "unmap 2", r);
	case_result(id, 0, 0);
}

static void t_give(void)
{
	const char *id = "give";
	uint64_t at, dat, free0 = pool_free(), pid;
	uint64_t regions = usage().regions;
	int64_t w;
	int r = pager_map(pager, 0, 2, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at);

	CHECK(r == 0, "map", r);
	*(volatile uint64_t *)(at + PAGE) = 0x77;
	CHECK((pid = spawn("given")) != 0, "spawn", 0);
	CHECK((r = pager_give(pager, at, pid, &dat)) == 0 && dat == MICA_PAGER_MAP_BASE, "give", r);
	CHECK(usage().regions == regions, "region still here", usage().regions);
	CHECK((w = wait_for(pid)) == 0, "child", w);
	CHECK(pool_free() == free0, "frames freed", free0 - pool_free());
	CHECK((r = pager_unmap(pager, at)) == MICA_ENOENT, "unmap given", r);
	case_result(id, 0, 0);
}

/*
 * A child needing more page tables than the kernel's reserve holds: the
 * pager feeds the reserve with pool frames and the child runs to its end.
 */
static void t_donate(void)
{
	const char *id = "donate";
	uint64_t free0 = pool_free(), d0 = donated();
	uint32_t reason = 9;
	uint64_t code = 9;
	struct mica_mem_stats ms;
	char args[32] = "sparse ";
	int r;

	/* One page table per page touched: more than the kernel has free now. */
	CHECK((r = (int)mica_mem_stats(&ms)) == 0, "mem_stats", r);
	uint64_t n = ms.reserve_free + 256;
	int len = 7;
	char digits[24];
	int nd = 0;

	do {
		digits[nd++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (nd)
		args[len++] = digits[--nd];
	args[len] = 0;
	r = run_child(args, &reason, &code);

	CHECK(r == 0 && reason == MICA_EXIT_NORMAL && code == 0, "child",
	      (int64_t)reason * 100 + (int64_t)code);
	CHECK(donated() > d0, "nothing donated", 0);
	CHECK(pool_free() == free0, "frames", free0 - pool_free());
	case_result(id, 0, 0);
}

static void t_free_blocks(void)
{
	const char *id = "free_blocks";
	uint64_t counts[19], f, t, d, sum = 0;
	uint32_t len = 0;
	int32_t largest;
	struct pager_usage u;
	int r = pager_free_blocks(pager, counts, &len);

	CHECK(r == 0 && len == sizeof(counts), "call", r);
	CHECK(pager_stats(pager, &f, &t, &largest, &d, &u) == 0, "stats", 0);
	for (int k = 0; k < 19; k++)
		sum += counts[k] << k;
	CHECK(sum == f, "sum", sum);
	CHECK(largest >= 0 && counts[largest] > 0, "largest", largest);
	for (int k = largest + 1; k < 19; k++)
		CHECK(counts[k] == 0, "above largest", k);
	CHECK(f <= t, "total", t);
	case_result(id, 0, 0);
}

int main(const struct mica_startup *s)
{
	uint64_t free0;

	st = s;
	pager = s->pager;
	if (s->argc > 1)
		return child((int)s->argc, s->argv);
	say("ptest: start\n");
	t_startup();
	t_image();
	/*
	 * The pool's free count from here on: bss and the stack the calls
	 * use are backed by now (the stubs keep up to 8 KiB on the stack).
	 */
	uint64_t counts[19];
	uint32_t len, total;

	pager_free_blocks(pager, counts, &len);
	pager_regions(pager, 0, 0, &total, region_list, &len);
	/* The image is backed on first touch: touch all of it now, so cases count only their own.
	 */
	for (uint32_t i = 0; i < len / sizeof(region_list[0]); i++)
		if (region_list[i].kind == MICA_PAGER_KIND_IMAGE)
			for (uint64_t a = region_list[i].start; a < region_list[i].end; a += PAGE)
				(void)*(volatile uint8_t *)a;
	free0 = pool_free();
	t_demand_zero();
	t_heap();
	t_heap_limits();
	t_map();
	t_sparse_unmap();
	t_regions();
	t_procs();
	t_kill("kill_unmapped", "unmapped", MICA_PAGER_KILL_UNMAPPED);
	t_kill("kill_wtext", "wtext", MICA_PAGER_KILL_ACCESS);
	t_kill("kill_wrodata", "wrodata", MICA_PAGER_KILL_ACCESS);
	t_kill("kill_xdata", "xdata", MICA_PAGER_KILL_ACCESS);
	t_stack_growth();
	t_kill("stack_overflow", "stack 4096", MICA_PAGER_KILL_STACK);
	t_spawn_many();
	t_spawn_limit();
	t_orphans();
	t_adopt();
	t_kill_tree();
	t_mem_limit();
	t_procs_limit();
	t_spawn_errors();
	t_kill_child();
	t_bad_requests();
	t_share();
	t_share_readonly();
	t_give();
	t_oom();
	t_donate();
	t_free_blocks();
	{
		const char *id = "counts";
		uint64_t f = pool_free();

		if (f == free0)
			case_result(id, 0, 0);
		else
			case_result(id, "pool free changed by", (int64_t)(free0 - f));
	}
	say("ptest: done\n");
	return 0;
}
