/*
 * Page faults: the kernel makes a faulting thread call the pager (its
 * pager endpoint, badged with the process's pid). The pager finds the
 * region, checks the access against its rights, backs the page with a
 * zeroed frame (filled from the image for image regions), maps it and
 * answers "resume"; or it answers with a kill code (include/mica/pager.h).
 * A write to a present page is copy on write (cow.c).
 */
#include "pager.h"

#define PAGE MICA_PAGE_SIZE

/*
 * A new frame holding what belongs at va in region r: the image's file
 * bytes, if any reach its page, and zeros around them (only the bytes not
 * copied are zeroed); else a zeroed frame. 0 when the pool is empty.
 */
uint64_t fault_frame(const struct region *r, uint64_t va)
{
	const struct seg *g = r->kind == REGION_IMAGE ? r->data : 0;

	if (!g)
		return frame_alloc();
	uint64_t lo = va > g->vaddr ? va : g->vaddr;
	uint64_t hi = va + PAGE < g->vaddr + g->filesz ? va + PAGE : g->vaddr + g->filesz;

	if (lo >= hi)
		return frame_alloc();
	/* Every byte is written below, so the frame need not be zeroed first. */
	uint64_t pa = frame_alloc_unzeroed();

	if (!pa)
		return 0;
	uint8_t *p = PHYS(pa);

	mem_zero(p, lo - va);
	mem_copy(p + (lo - va), PHYS(g->file + (lo - g->vaddr)), hi - lo);
	mem_zero(p + (hi - va), va + PAGE - hi);
	return pa;
}

/* How far the stack region above guard may reach down: its top less its limit. */
static uint64_t stack_floor(struct space *s, const struct region *guard, struct region **stack)
{
	struct region *st = region_find(&s->regions, guard->end);

	*stack = st;
	/* The guard sits right below a stack region (a thread's has its struct thread as data). */
	if (!st || st->kind != REGION_STACK || st->start != guard->end || !st->rights)
		return UINT64_MAX;
	return st->end - (st->data ? MICA_PAGER_THREAD_STACK_LIMIT : MICA_PAGER_STACK_LIMIT);
}

/*
 * A fault at va on the guard page below a stack, or in the free space
 * below the guard (a function's frame may skip a page): move the stack's
 * start down to va's page and the guard below it, if the stack stays
 * within MICA_PAGER_STACK_LIMIT (a thread's: MICA_PAGER_THREAD_STACK_LIMIT).
 * Returns the grown stack region, or NULL (overflow: the caller kills).
 */
static struct region *stack_grow(struct space *s, struct region *guard, uint64_t va)
{
	struct region *stack;
	uint64_t floor = stack_floor(s, guard, &stack);
	uint64_t g = va < guard->start ? va : guard->start;

	if (floor == UINT64_MAX || g < floor)
		return 0;
	uint64_t top = stack->end, old_guard = guard->start;
	void *data = stack->data;
	struct backing b = *space_backing(s, stack);

	region_remove(&s->regions, old_guard);
	region_remove(&s->regions, stack->start);
	if (space_insert(s, g, top, REGION_READ | REGION_WRITE, REGION_STACK, data, &stack) < 0)
		return 0;
	*space_backing(s, stack) = b;
	/* A new guard below, unless something else is there (then that region guards). */
	if (g - PAGE >= MICA_USER_BASE)
		(void)space_insert(s, g - PAGE, g, 0, REGION_STACK, 0, 0);
	return stack;
}

/*
 * The stack that a fault at va in no region may grow to cover: the first
 * region above va is a stack's guard and va is within that stack's limit.
 * NULL otherwise (the address is in no region).
 */
static struct region *stack_below(struct space *s, uint64_t va)
{
	struct region *guard = region_find_from(&s->regions, va), *stack;

	if (!guard || guard->kind != REGION_STACK || guard->rights)
		return 0;
	if (stack_floor(s, guard, &stack) == UINT64_MAX || va < stack_floor(s, guard, &stack))
		return 0;
	return stack_grow(s, guard, va);
}

/* Why a fault is refused, for the pager's log line. */
static const char *const kill_why[] = {
    [MICA_PAGER_KILL_UNMAPPED] = "address in no region",
    [MICA_PAGER_KILL_ACCESS] = "access not allowed",
    [MICA_PAGER_KILL_STACK] = "stack overflow",
    [MICA_PAGER_KILL_NOMEM] = "out of memory",
    [MICA_PAGER_KILL_LIMIT] = "memory limit",
    [MICA_PAGER_KILL_BUS] = "past the memory object's end",
    [MICA_PAGER_KILL_SERVER] = "memory server failed",
    [MICA_PAGER_KILL_TIMEOUT] = "memory server timed out",
};

/* Log the kill of s's thread (s may have ended meanwhile: NULL) and return code. */
static uint64_t refuse(struct space *s, uint64_t code, uint64_t addr, uint64_t rip)
{
	if (!s)
		return code;
	log_str("pager: killing ");
	log_str(s->name);
	log_str(" pid ");
	log_num(s->pid);
	log_str(": ");
	log_str(kill_why[code]);
	log_str(" at ");
	log_hex(addr);
	log_str(" rip ");
	log_hex(rip);
	log_str("\n");
	return code;
}

/*
 * Serve a fault of process s at addr (MICA_FAULT_* access bits, rip for
 * the log). Returns 0 (resume) or the MICA_PAGER_KILL_* code to kill with.
 */
uint64_t fault_handle(struct space *s, uint64_t addr, uint64_t access, uint64_t rip)
{
	struct region *r = region_find_last(&s->regions, addr);
	uint64_t va = addr & ~(PAGE - 1);
	uint32_t need = REGION_READ;

	/* The address lies in a region, or just below a stack within its limit. */
	if (!r && !(r = stack_below(s, va)))
		return refuse(s, MICA_PAGER_KILL_UNMAPPED, addr, rip);
	/* A guard page: the stack grows, or has overflowed. */
	if (r->kind == REGION_STACK && r->rights == 0 && !(r = stack_grow(s, r, va)))
		return refuse(s, MICA_PAGER_KILL_STACK, addr, rip);
	/* A memory object's page comes from its server (memobj.c). */
	if (r->kind == REGION_OBJECT) {
		uint64_t pid = s->pid, code = memobj_fault(s, r, addr, access);
		struct space *t = space_by_pid(pid); /* it may have ended while the server worked */

		return code ? refuse(t && t->state == SPACE_LIVE ? t : 0, code, addr, rip) : 0;
	}
	/* The region allows the access, and the page is not mapped yet (else rights were the
	 * problem). */
	if (access & MICA_FAULT_WRITE)
		need |= REGION_WRITE;
	if (access & MICA_FAULT_EXEC)
		need |= REGION_EXEC;
	if ((r->rights & need) != need)
		return refuse(s, MICA_PAGER_KILL_ACCESS, addr, rip);
	/* A write to a present page of a writable region not shared: copy on write (cow.c). */
	if ((access & MICA_FAULT_PRESENT) && (access & MICA_FAULT_WRITE) &&
	    r->kind != REGION_SHARED) {
		uint64_t code = cow_fault(s, r, va);

		return code ? refuse(s, code, addr, rip) : 0;
	}
	if (access & MICA_FAULT_PRESENT)
		return refuse(s, MICA_PAGER_KILL_ACCESS, addr, rip);
	/* A page more stays within the memory limits on s and its ancestors (limit.c). */
	if (limit_mem_room(s) == 0)
		return refuse(s, MICA_PAGER_KILL_LIMIT, addr, rip);
	uint64_t pa = r->kind == REGION_IMAGE ? fault_frame(r, va) : frame_alloc();

	if (!pa)
		return refuse(s, MICA_PAGER_KILL_NOMEM, addr, rip);
	int e = space_map(s, r, va, pa, r->rights);

	if (e < 0) {
		frame_free(pa);
		/* Mapped meanwhile: nothing to do but retry the access. */
		if (e != MICA_EEXIST)
			return refuse(s, MICA_PAGER_KILL_NOMEM, addr, rip);
	}
	return 0;
}
