/*
 * ptest's process-tree cases: a process whose parent ends passes to init
 * (ptest is init here: the pager started it), which lists it with
 * pager.children, may kill it and waits for it; kill_tree ends a child
 * with everything below it.
 */
#include <mica/fault.h>

#include "ptest.h"

#define MARK (MICA_PAGER_MAP_BASE + (MICA_UL(1) << 30)) /* a tree child maps here once ready */

/* Our children's pids (pager.children), at most 32; how many, or a negative error. */
static int children(uint64_t *pids)
{
	uint32_t total = 0, len = 0;
	static uint64_t buf[PAGER_CHILDREN_PIDS_MAX / 8];
	int r = pager_children(pager, 0, &total, buf, &len);

	if (r < 0)
		return r;
	for (uint32_t i = 0; i < len / 8 && i < 32; i++)
		pids[i] = buf[i];
	return (int)(len / 8 < 32 ? len / 8 : 32);
}

/* Has child pid mapped the MARK region (it is ready)? */
static bool marked(uint64_t pid)
{
	static struct mica_pager_region list[MICA_PAGER_REGIONS_MAX];
	uint32_t total = 0, len = 0;

	if (pager_regions(pager, pid, 0, &total, list, &len) < 0)
		return false;
	for (uint32_t i = 0; i < len / sizeof(list[0]); i++)
		if (list[i].start == MARK)
			return true;
	return false;
}

int family_reap(void)
{
	uint64_t pids[32];
	int n = children(pids);

	for (int i = 0; i < n; i++)
		if (wait_for(pids[i]) < 0)
			return -100 - i;
	return n;
}

bool family_child(const char *mode, int argc, char **argv, int *rc)
{
	uint64_t pid, at;

	(void)argc, (void)argv;
	if (str_eq(mode, "leave")) {
		/* Two quick children and one that runs until killed; we end first. */
		*rc = !spawn("yield 50") || !spawn("yield 50") || !spawn("yield 1000000000");
		return true;
	}
	if (str_eq(mode, "tree")) {
		/* A child below us (unless we are the leaf), then the mark, then run until killed.
		 */
		if (argc > 2 && parse_num(argv[2]) > 0 &&
		    pager_spawn(pager, "ptest.elf", "tree 0", &pid) < 0)
			return *rc = 1, true;
		if (pager_map(pager, MARK, 1, MICA_MAP_READ, MICA_PAGER_MAP_FIXED, &at) < 0)
			return *rc = 2, true;
		for (;;)
			mica_yield();
	}
	return false;
}

/*
 * A child that leaves children behind: they pass to us (init); we see
 * them in pager.children, kill the one that would run on, and wait for
 * all three; every frame and slot comes back.
 */
void t_adopt(void)
{
	const char *id = "adopt";
	uint64_t free0 = pool_free(), pids[32], pid;
	int64_t w;
	int n, killed = 0, normal = 0, r;

	CHECK((n = children(pids)) == 0, "children before", n);
	CHECK((pid = spawn("leave")) != 0, "spawn", 0);
	CHECK((w = wait_for(pid)) == 0, "child", w);
	CHECK((n = children(pids)) == 3, "adopted", n);
	for (int i = 0; i < n; i++) {
		r = pager_kill(pager, pids[i], 5);
		/* The quick ones may have ended already. */
		CHECK(r == 0 || r == MICA_EPEER, "kill adopted", r);
	}
	for (int i = 0; i < n; i++) {
		w = wait_for(pids[i]);
		killed += w == MICA_EXIT_KILLED * 100 + 5;
		normal += w == 0;
	}
	CHECK(killed >= 1 && killed + normal == 3, "ends", killed * 10 + normal);
	CHECK((n = children(pids)) == 0, "children after", n);
	CHECK(pool_free() == free0, "frames", (int64_t)(free0 - pool_free()));
	case_result(id, 0, 0);
}

/*
 * kill_tree of a child with a grandchild: both end; the grandchild does
 * not pass to us; every frame comes back. A plain kill of the same shape
 * leaves the grandchild to us (adopted), and we end it too.
 */
void t_kill_tree(void)
{
	const char *id = "kill_tree";
	uint64_t free0 = pool_free(), pid, pids[32];
	int64_t w;
	int n, r, i;

	CHECK((pid = spawn("tree 1")) != 0, "spawn", 0);
	for (i = 0; i < 1000000 && !marked(pid); i++)
		mica_yield();
	CHECK(marked(pid), "child not ready", i);
	CHECK((r = pager_kill_tree(pager, pid, 9)) == 0, "kill_tree", r);
	CHECK((w = wait_for(pid)) == MICA_EXIT_KILLED * 100 + 9, "child", w);
	CHECK((n = children(pids)) == 0, "grandchild adopted", n);
	CHECK((r = pager_kill_tree(pager, pid, 0)) == MICA_ENOENT, "kill_tree forgotten", r);
	CHECK((r = pager_kill_tree(pager, st->pid, 0)) == MICA_ENOENT, "kill_tree self", r);
	for (i = 0; i < 100000 && pool_free() != free0; i++)
		mica_yield();
	CHECK(pool_free() == free0, "frames", (int64_t)(free0 - pool_free()));
	/* A plain kill: the grandchild passes to us. */
	CHECK((pid = spawn("tree 1")) != 0, "spawn 2", 0);
	for (i = 0; i < 1000000 && !marked(pid); i++)
		mica_yield();
	CHECK((r = pager_kill(pager, pid, 9)) == 0, "kill", r);
	CHECK((w = wait_for(pid)) == MICA_EXIT_KILLED * 100 + 9, "child 2", w);
	CHECK((n = children(pids)) == 1, "grandchild not adopted", n);
	CHECK((r = pager_kill(pager, pids[0], 3)) == 0, "kill adopted", r);
	CHECK((w = wait_for(pids[0])) == MICA_EXIT_KILLED * 100 + 3, "adopted", w);
	CHECK(pool_free() == free0, "frames 2", (int64_t)(free0 - pool_free()));
	case_result(id, 0, 0);
}
