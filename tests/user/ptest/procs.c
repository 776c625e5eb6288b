/*
 * ptest's case for pager.procs (idl/pager.idl) and the image_dirty case, in
 * a file of its own: its code after main.c's, so the path a ptest child
 * runs (make bench's pager.spawn_exit) keeps its pages. Its buffers are static: ptest backs
 * its whole image before it counts frames (a deeper stack would count).
 */
#include <mica/fault.h>

#include "ptest.h"

extern char __bss_start[], _end[]; /* the image's zero part (tests/user/user.ld) */

/* Is address a inside the n bytes at p? */
static bool within(uint64_t a, const volatile void *p, uint64_t n)
{
	return a >= (uint64_t)p && a - (uint64_t)p < n;
}

/*
 * Child mode "image": the zero part of the image reads zero where it
 * shares a page with the file's last bytes (nothing has written there
 * yet but the startup's globals, st and pager). Exit code 0, or 2.
 */
bool procs_child(const char *mode, int *rc)
{
	uint64_t lo = (uint64_t)__bss_start, hi = (lo + PAGE - 1) & ~(PAGE - 1);

	if (!str_eq(mode, "image"))
		return false;
	*rc = 0;
	for (uint64_t a = lo; a < hi && a < (uint64_t)_end; a++)
		if (!within(a, &st, sizeof(st)) && !within(a, &pager, sizeof(pager)) &&
		    *(volatile uint8_t *)a != 0)
			*rc = 2;
	return true;
}

/*
 * A child's image pages are copied from the module and zeroed only where
 * the file has no bytes (the pager skips zeroing what it copies over):
 * frames left full of ones by a region of ours go back to the pool first,
 * so the child's image lands on them, and its zero part must still read
 * zero.
 */
void t_image_dirty(void)
{
	const char *id = "image_dirty";
	const uint64_t n = 64;
	uint64_t at, pid;
	int64_t w;
	int r = pager_map(pager, 0, n, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at);

	CHECK(r == 0, "map", r);
	for (uint64_t i = 0; i < n * PAGE; i += 8)
		*(volatile uint64_t *)(at + i) = ~0ULL;
	CHECK((r = pager_unmap(pager, at)) == 0, "unmap", r);
	CHECK((pid = spawn("image")) != 0, "spawn", 0);
	w = wait_for(pid);
	CHECK(w == MICA_EXIT_NORMAL * 100, "child's image", w);
	case_result(id, 0, 0);
}

/* Process pid in the procs list (from the start, into proc_list), or NULL; its count in *total. */
static const struct mica_pager_proc *find_proc(struct mica_pager_proc *proc_list, uint64_t pid,
                                               uint32_t *total)
{
	uint32_t len = 0;

	if (pager_procs(pager, 0, total, proc_list, &len) < 0)
		return 0;
	for (uint32_t i = 0; i < len / sizeof(proc_list[0]); i++)
		if (proc_list[i].pid == pid)
			return &proc_list[i];
	return 0;
}

/*
 * pager.procs: ptest itself as the pager holds it, a child that has ended
 * (and is not waited for yet), paging past the end, the regions of an
 * ended process.
 */
void t_procs(void)
{
	const char *id = "procs";
	static struct mica_pager_proc proc_list[MICA_PAGER_PROCS_MAX];
	const struct mica_pager_proc *p;
	static struct mica_pager_region regions[MICA_PAGER_REGIONS_MAX];
	uint32_t total = 0, total2 = 0, len = 0;
	uint64_t pid;
	int r;

	/* image_dirty runs first, from here: main.c's code stays as it is (see the top). */
	t_image_dirty();
	CHECK((p = find_proc(proc_list, st->pid, &total)) != 0, "self listed", total);
	struct pager_usage u = usage();

	CHECK(p->parent == 0 && p->state == MICA_PAGER_PROC_LIVE && p->threads == 1 &&
	          str_eq(p->name, "ptest.elf"),
	      "self", p->state);
	CHECK(p->resident == u.resident_pages && p->regions == u.regions, "self counts",
	      p->resident);
	CHECK(p->mem_limit == MICA_PAGER_NO_LIMIT && p->procs_used == 0 &&
	          p->mem_used == p->resident,
	      "self limits", p->procs_used);
	CHECK((r = pager_spawn(pager, "ptest.elf", "exit 5", &pid)) == 0, "spawn", r);
	for (;;) {
		p = find_proc(proc_list, pid, &total2);
		CHECK(p && p->parent == st->pid, "child listed", pid);
		if (p->state == MICA_PAGER_PROC_ENDED)
			break;
		mica_yield();
	}
	CHECK(total2 == total + 1 && p->threads == 0 && p->regions == 0 && p->resident == 0 &&
	          p->exit_reason == MICA_EXIT_NORMAL && p->exit_code == 5,
	      "ended child", p->exit_code);
	CHECK((r = pager_regions(pager, pid, 0, &total2, regions, &len)) == MICA_ENOENT,
	      "an ended process's regions", r);
	CHECK((r = pager_procs(pager, total + 1, &total2, proc_list, &len)) == 0 && len == 0 &&
	          total2 == total + 1,
	      "past the end", len);
	CHECK((r = pager_procs(pager, UINT32_MAX, &total2, proc_list, &len)) == 0 && len == 0,
	      "first max", len);
	CHECK((r = (int)wait_for(pid)) == 5, "wait", r);
	CHECK(!find_proc(proc_list, pid, &total2) && total2 == total, "waited for: gone", total2);
	case_result(id, 0, 0);
}
