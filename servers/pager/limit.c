/*
 * Per-process limits, counted hierarchically as cgroups do: a limit set on
 * a process (by its parent at spawn, pager.spawn_with) bounds the whole
 * subtree below it, the process included. Memory is the pages mapped into
 * the subtree's address spaces now (a shared page counts for each process
 * that maps it); descendants are the subtree's processes now (running, or
 * ended and not yet waited for). MICA_PAGER_NO_LIMIT means no limit of its
 * own: its ancestors' still apply. Usage is counted when needed, from the list
 * of processes (O(processes x depth)), so nothing has to be moved when a process ends or
 * an orphan passes to init; a process with no limited ancestor pays only
 * for the walk up its parents.
 */
#include "pager.h"

/* Is d in the subtree of a (a itself, or below it)? */
static bool in_subtree(const struct space *d, const struct space *a)
{
	for (; d; d = d->parent)
		if (d == a)
			return true;
	return false;
}

/* Pages mapped in a's subtree now, with each extra thread's kernel block and region records. */
uint64_t limit_mem_used(const struct space *a)
{
	uint64_t n = 0;

	for (const struct space *c = space_first; c; c = c->next)
		if (c->state == SPACE_LIVE && in_subtree(c, a))
			n += c->resident + c->threads_live * LIMIT_THREAD_PAGES +
			     limit_region_pages(region_count(&c->regions));
	return n;
}

/* Processes below a now (a not counted). */
uint64_t limit_procs_used(const struct space *a)
{
	uint64_t n = 0;

	for (const struct space *c = space_first; c; c = c->next)
		if (c != a && in_subtree(c, a))
			n++;
	return n;
}

/*
 * The pages s may still add: the least room left under any limit on s or
 * an ancestor; UINT64_MAX if none has a limit.
 */
uint64_t limit_mem_room(const struct space *s)
{
	uint64_t room = UINT64_MAX;

	for (const struct space *a = s; a; a = a->parent) {
		if (a->mem_limit == MICA_PAGER_NO_LIMIT)
			continue;
		uint64_t used = limit_mem_used(a);
		uint64_t left = used >= a->mem_limit ? 0 : a->mem_limit - used;

		if (left < room)
			room = left;
	}
	return room;
}

/* The processes s's subtree may still add below s; UINT64_MAX if no limit applies. */
static uint64_t procs_room(const struct space *s)
{
	uint64_t room = UINT64_MAX;

	for (const struct space *a = s; a; a = a->parent) {
		if (a->procs_limit == MICA_PAGER_NO_LIMIT)
			continue;
		uint64_t used = limit_procs_used(a);
		uint64_t left = used >= a->procs_limit ? 0 : a->procs_limit - used;

		if (left < room)
			room = left;
	}
	return room;
}

/* Log "pager: <name> pid <n>: <what> limit" (a refusal; the caller returns MICA_ELIMIT). */
static int refused(const struct space *s, const char *what)
{
	log_str("pager: ");
	log_str(s->name);
	log_str(" pid ");
	log_num(s->pid);
	log_str(": ");
	log_str(what);
	log_str(" limit\n");
	return MICA_ELIMIT;
}

/* May s grow by pages more pages (brk, sbrk, map)? 0, or MICA_ELIMIT (logged). */
int limit_mem_check(const struct space *s, uint64_t pages)
{
	return pages > limit_mem_room(s) ? refused(s, "memory") : 0;
}

/*
 * May parent (NULL: the pager) start one more child? 0, or MICA_ELIMIT
 * (logged) if it or an ancestor is at its descendants limit.
 */
int limit_spawn_check(const struct space *parent)
{
	return parent && procs_room(parent) == 0 ? refused(parent, "descendants") : 0;
}

/*
 * Set child c's own limits from what its parent asked (0: none of its
 * own), cut down to what the parent has left: memory to its room,
 * descendants to its room less c itself.
 */
void limit_inherit(struct space *c, const struct space *parent, uint64_t mem_pages, uint64_t procs)
{
	uint64_t mem_room = parent ? limit_mem_room(parent) : UINT64_MAX;
	uint64_t proc_room = parent ? procs_room(parent) : UINT64_MAX;

	if (proc_room != UINT64_MAX && proc_room)
		proc_room--;
	c->mem_limit = !mem_pages             ? MICA_PAGER_NO_LIMIT
	               : mem_pages > mem_room ? mem_room
	                                      : mem_pages;
	c->procs_limit = !procs ? MICA_PAGER_NO_LIMIT : procs > proc_room ? proc_room : procs;
}
