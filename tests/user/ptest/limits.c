/*
 * ptest's limit cases: a parent sets a child's memory and descendants
 * limits at spawn (pager.spawn_with); they bound the child's whole
 * subtree. A process growing past its memory limit is refused
 * (MICA_ELIMIT) or, at a fault, killed ("memory limit"); a spawn whose
 * pages backed at spawn (the stack's top page) do not fit is refused
 * (MICA_ELIMIT); a spawner is
 * stopped at its descendants limit; nobody else notices. Also the mode
 * init's manifest test runs (tests/system/test_limits.py).
 */
#include <mica/fault.h>

#include "out.h"
#include "ptest.h"

#define HOG_PAGES 40 /* two regions of this many: more than a 64-page limit */

/* Spawn ptest.elf with args and limits; its pid, or 0. */
static uint64_t spawn_limited(const char *args, uint64_t mem_pages, uint64_t procs)
{
	struct pager_limits lim = {.mem_pages = mem_pages, .procs = procs};
	uint64_t pid = 0;

	pager_spawn_with(pager, "ptest.elf", args, &lim, &pid);
	return pid;
}

/* Touch every page of n at at. */
static void touch(uint64_t at, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		*(volatile uint64_t *)(at + i * PAGE) = i;
}

/* "hog": under a 64-page limit: growth past it refused, then touching past it kills. */
static int hog(void)
{
	uint64_t a, b, old;
	int r;

	/* 1 MiB of heap, 200 pages of map: more than the limit leaves, refused at once. */
	if ((r = pager_sbrk(pager, 1 << 20, &old)) != MICA_ELIMIT)
		return 10;
	if ((r = pager_map(pager, 0, 200, MICA_MAP_READ | MICA_MAP_WRITE, 0, &a)) != MICA_ELIMIT)
		return 11;
	/* Each lazy region fits what is left; both together do not: a fault kills us. */
	if (pager_map(pager, 0, HOG_PAGES, MICA_MAP_READ | MICA_MAP_WRITE, 0, &a) < 0 ||
	    pager_map(pager, 0, HOG_PAGES, MICA_MAP_READ | MICA_MAP_WRITE, 0, &b) < 0)
		return 12;
	touch(a, HOG_PAGES);
	touch(b, HOG_PAGES);
	return 13;
}

/*
 * "full": under a memory limit, back every page it leaves (no room), then
 * spawn a module: its stack's top page, backed at spawn, does not fit,
 * so MICA_ELIMIT (not a child killed at its first fault); with a page
 * given back, the spawn is made and the child runs.
 */
static int full(void)
{
	struct pager_limits lim = {0};
	uint64_t pid = 0, at;
	int r;

	/* The calls below once before: the stack pages they touch are backed now. */
	if (pager_spawn_with(pager, "nosuch.elf", "exit", &lim, &pid) != MICA_ENOENT)
		return 20;
	struct pager_usage u = usage();

	if (u.mem_limit == MICA_PAGER_NO_LIMIT || u.mem_used >= u.mem_limit)
		return 21;
	if (pager_map(pager, 0, u.mem_limit - u.mem_used, MICA_MAP_READ | MICA_MAP_WRITE,
	              MICA_PAGER_MAP_FILL, &at) != 0)
		return 22;
	u = usage();
	if (u.mem_used != u.mem_limit)
		return 23;
	if ((r = pager_spawn_with(pager, "ptest.elf", "exit 7", &lim, &pid)) != MICA_ELIMIT)
		return r ? 24 : 25;
	if (pager_unmap(pager, at) != 0)
		return 26;
	if (pager_spawn_with(pager, "ptest.elf", "exit 7", &lim, &pid) != 0 || wait_for(pid) != 7)
		return 27;
	return 0;
}

/* "bomb": spawn children that spawn, until the limit stops the tree; then report and end. */
static int bomb(bool root)
{
	uint64_t pid, pids[32];
	int n = 0, r;

	while (n < 32 && (r = pager_spawn(pager, "ptest.elf", "bomb child", &pids[n])) == 0)
		n++;
	if (!root) {
		for (;;) /* until the root ends the tree */
			mica_yield();
	}
	struct pager_usage u = usage();

	for (int i = 0; i < n; i++) {
		pager_kill_tree(pager, pids[i], 0);
		if (wait_for(pids[i]) < 0)
			return 40;
	}
	(void)pid;
	if (r != MICA_ELIMIT)
		return 50;
	return u.procs_limit == 3 && u.procs_used == 3 ? 0 : 10 + (int)u.procs_used;
}

/* "limits <mem> <procs> <id>" (init's manifest test): the limits reached us, and hold. */
static int limits(int argc, char **argv)
{
	uint64_t mem = argc > 2 ? (uint64_t)parse_num(argv[2]) : 0, old;
	uint64_t procs = argc > 3 ? (uint64_t)parse_num(argv[3]) : 0, pids[32], n = 0;
	const char *id = argc > 4 ? argv[4] : "manifest";
	struct pager_usage u = usage();
	int r = 0;

	if (u.mem_limit != (mem ? mem : MICA_PAGER_NO_LIMIT) || u.procs_limit != procs) {
		result_in("limits", id, "limits", (long)u.procs_limit);
		return 1;
	}
	while (n < procs + 1 && n < 32 &&
	       (r = pager_spawn(pager, "ptest.elf", "yield 1000000000", &pids[n])) == 0)
		n++;
	for (uint64_t i = 0; i < n; i++) {
		pager_kill(pager, pids[i], 0);
		wait_for(pids[i]);
	}
	if (n != procs || r != MICA_ELIMIT) {
		result_in("limits", id, "descendants", (long)n);
		return 1;
	}
	if (mem && (r = pager_sbrk(pager, (int64_t)(mem * PAGE), &old)) != MICA_ELIMIT) {
		result_in("limits", id, "memory", r);
		return 1;
	}
	result_in("limits", id, 0, 0);
	return 0;
}

bool limits_child(const char *mode, int argc, char **argv, int *rc)
{
	if (str_eq(mode, "hog"))
		*rc = hog();
	else if (str_eq(mode, "hogtree"))
		/* The grandchild has no limit of its own: ours holds it. */
		*rc =
		    wait_for(spawn("hog")) == MICA_EXIT_PAGER * 100 + MICA_PAGER_KILL_LIMIT ? 0 : 1;
	else if (str_eq(mode, "full"))
		*rc = full();
	else if (str_eq(mode, "bomb"))
		*rc = bomb(argc < 3);
	else if (str_eq(mode, "limits"))
		*rc = limits(argc, argv);
	else
		return false;
	return true;
}

/* A child over its memory limit is refused, then killed; its sibling and we run on. */
void t_mem_limit(void)
{
	const char *id = "mem_limit";
	uint64_t free0 = pool_free(), pid, at;
	int64_t w;
	int r;

	CHECK((pid = spawn_limited("hog", 64, 0)) != 0, "spawn", 0);
	CHECK((w = wait_for(pid)) == MICA_EXIT_PAGER * 100 + MICA_PAGER_KILL_LIMIT, "hog", w);
	/* The limit is on the subtree: a grandchild with none of its own is held by it. */
	CHECK((pid = spawn_limited("hogtree", 64, 0)) != 0, "spawn tree", 0);
	CHECK((w = wait_for(pid)) == 0, "hogtree", w);
	/* A spawn whose stack page does not fit the spawner's limit: refused, nothing kept. */
	CHECK((pid = spawn_limited("full", 64, 0)) != 0, "spawn full", 0);
	CHECK((w = wait_for(pid)) == 0, "full", w);
	CHECK(pool_free() == free0, "frames", (int64_t)(free0 - pool_free()));
	/* We have no limit: far more than 64 pages is fine. */
	CHECK((r = pager_map(pager, 0, 256, MICA_MAP_READ | MICA_MAP_WRITE, MICA_PAGER_MAP_FILL,
	                     &at)) == 0,
	      "map after", r);
	CHECK((r = pager_unmap(pager, at)) == 0, "unmap after", r);
	CHECK(usage().mem_limit == MICA_PAGER_NO_LIMIT, "own limit", usage().mem_limit);
	case_result(id, 0, 0);
}

/* A spawner whose children spawn too: the tree stops at 3 descendants. */
void t_procs_limit(void)
{
	const char *id = "procs_limit";
	uint64_t free0 = pool_free(), pid, pids[32];
	int64_t w;
	uint32_t total, len;
	int r;

	CHECK((pid = spawn_limited("bomb", 0, 3)) != 0, "spawn", 0);
	CHECK((w = wait_for(pid)) == 0, "bomb", w);
	CHECK((r = pager_children(pager, 0, &total, pids, &len)) == 0 && total == 0, "children",
	      total);
	CHECK(pool_free() == free0, "frames", (int64_t)(free0 - pool_free()));
	case_result(id, 0, 0);
}
